# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SANDBOX := tools/sandbox
STAMP := $(VENV)/.installed

.PHONY: venv dist demo test unit functional functional-streams lint samples bench clean sandbox-down

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,aws,yandex,postgresql]'
	touch $(STAMP)

venv: $(STAMP)

## The wheels operators install (cloud-manager, clouds, clouds-drivers, aos-core) into dist/.
dist: venv
	$(BIN)/python tools/dist.py --out dist

## The main job: the sandbox cloud protected by CloudManager (see docs/demo.md).
demo: venv
	$(BIN)/python -m tools.demo

## Everything: lint, unit tests, then functional tests on the sandbox. The sandbox comes up
## while the unit tests run (they never touch it); its output is shown once it is up.
SANDBOX_UP_LOG := $(VENV)/sandbox-up.log
test: venv
	$(BIN)/ruff check .
	tools/install-test-packages
	$(SANDBOX) up --computes 4 >$(SANDBOX_UP_LOG) 2>&1 & up=$$!; \
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=15 tests/unit; unit=$$?; \
	wait $$up; sandbox=$$?; cat $(SANDBOX_UP_LOG); \
	test $$unit = 0 && test $$sandbox = 0
	$(MAKE) --no-print-directory functional-streams

## The functional tests in two streams at once on the one sandbox: those that leave the local
## compute hosts alone (cloud hosts, Cinder, Neutron, the APIs, the databases) and the
## CloudManager ones (the local compute hosts, which its tests kill, fence and migrate between). Mostly waiting on OpenStack, so
## together they take about as long as the longer one.
CLOUDS_TESTS := $(wildcard tests/functional/test_clouds_*.py) tests/functional/test_cloud_doubles.py \
	tests/functional/test_storage_sync.py tests/functional/test_sandbox_packages.py \
	tests/functional/test_db_postgresql.py tests/functional/test_db_mariadb.py \
	tests/functional/test_api_fuzzing.py tests/functional/test_api_auth.py
CM_TESTS := $(filter-out $(CLOUDS_TESTS) tests/functional/test_db_postgresql.py,$(wildcard tests/functional/test_*.py))
CLOUDS_LOG := $(VENV)/functional-clouds.log
functional-streams:
	AOS_SANDBOX_REUSE=1 $(BIN)/python -m pytest -p no:cacheprovider --durations=15 -m functional \
	    --basetemp=$(VENV)/pytest-clouds $(CLOUDS_TESTS) >$(CLOUDS_LOG) 2>&1 & clouds=$$!; \
	AOS_SANDBOX_REUSE=1 $(BIN)/python -m pytest -p no:cacheprovider --durations=15 -m functional \
	    --basetemp=$(VENV)/pytest-cm $(CM_TESTS); cm=$$?; \
	wait $$clouds; clouds_rc=$$?; echo "=== the Clouds stream ==="; cat $(CLOUDS_LOG); \
	echo "functional: CloudManager stream exit $$cm, Clouds stream exit $$clouds_rc"; \
	test $$cm = 0 && test $$clouds_rc = 0

unit: venv
	tools/install-test-packages
	$(BIN)/python -m pytest -n 2 --dist loadfile tests/unit

functional: venv
	tools/install-test-packages
	$(SANDBOX) up --computes 4
	$(BIN)/python -m pytest -m functional tests/functional

lint: venv
	$(BIN)/ruff check .

samples: venv
	$(BIN)/python -m aos.conf.samples etc/aos

bench: venv
	$(BIN)/python bench/evacuation_planning.py

sandbox-down:
	$(SANDBOX) down
