"""Every module's API under schemathesis (all checks), on MariaDB, with a token from the
sandbox's Keystone: an admin's (30 examples per operation) and a project member's (5: the
policy refuses nearly everything, and that is what is checked).

Passes only if no answer is a 5xx other than a documented one (502: an unreachable power
device), every answer matches the OpenAPI document (status, content type, body schema), and
a member changed nothing (no 2xx to a POST, PUT, PATCH or DELETE).
"""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from tests.functional.module_api import BIN, ModuleAPI

pytestmark = pytest.mark.functional

EXAMPLES = 30
_AUDIT = re.compile(r"(GET|POST|PATCH|PUT|DELETE) (\S+) -> (\d{3}) ")


@pytest.fixture(params=["cloud_manager", "clouds"])
def module_api(request, sandbox, tmp_path):
    api = ModuleAPI(sandbox, tmp_path, request.param)
    api.start()
    yield api
    api.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize(("project", "examples"), [("admin", EXAMPLES), ("demo", 5)],
                         ids=["admin", "member"])
def test_api_under_fuzzing(sandbox, module_api, tmp_path, project, examples):
    document = requests.get(f"{module_api.url}/openapi.json", timeout=10).json()
    if not document["paths"]:
        pytest.skip(f"the {module_api.module.name} API has no operations yet")
    token = sandbox.conn(project).session.get_token()
    # not_a_server_error would count the documented 502 of an unreachable power device: 5xx
    # are counted from the API's own audit log below instead.
    run = subprocess.run(
        [str(BIN / "st"), "run", f"{module_api.url}/openapi.json", "--checks", "all",
         "--exclude-checks", "not_a_server_error",
         "--max-examples", str(examples), "--header", f"X-Auth-Token: {token}",
         "--request-timeout", "30", "--workers", "1", "--seed", "14", "--no-color",
         "--generation-database", "none", "--report-dir", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=840, env=module_api.env())
    answers = _AUDIT.findall(module_api.output())
    server_errors = [a for a in answers if a[2].startswith("5")
                     and not (a[2] == "502" and a[1].endswith("/action"))]
    print(f"{module_api.module.name}: {len(answers)} requests, "
          f"{sum(a[2].startswith('5') for a in answers)} answered 5xx "
          f"({len(server_errors)} undocumented)\n{run.stdout[-3000:]}")
    assert answers, module_api.output()[-2000:]
    assert server_errors == [], server_errors[:10]
    if project != "admin":
        changed = [a for a in answers if a[0] != "GET" and a[2].startswith("2")]
        assert changed == [], changed[:10]
    # schemathesis's own checks: every answer as the OpenAPI document says
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
