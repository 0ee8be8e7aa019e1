"""Packaging: service scripts and their systemd units, and the spec's distributions.

The wheels are built by tools/dist.py and installed by pip into new venvs, as an operator would.
"""

import ast
import configparser
import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools import dist

ROOT = Path(__file__).resolve().parents[3]


def test_console_scripts_and_systemd_units_match():
    scripts = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"])
    units = {}
    for path in (ROOT / "etc" / "systemd").glob("*.service"):
        unit = configparser.ConfigParser(interpolation=None)
        unit.read(path)
        units[path.stem] = Path(unit["Service"]["ExecStart"].split()[0]).name
    assert units == {name: name for name in scripts}


def test_documented_wsgi_path_is_importable():
    from cloud_manager.api import cloud_manager_api

    assert callable(cloud_manager_api.wsgi)


# --- the spec's distributions (tools/dist.py) ---------------------------------------------------

FORBIDDEN_ON_NODES = ("flask", "celery", "sqlalchemy", "aos", "cloud_manager", "clouds")


def _closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """Installed third-party distributions that ``requirements`` pull in, transitively."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if dist.canonical(req.name) in dist.DISTRIBUTIONS:
            continue
        installed = metadata.distribution(req.name)
        key = dist.canonical(installed.metadata["Name"])
        if key in found:
            continue
        found[key] = installed
        for text in installed.requires or []:
            sub = Requirement(text)
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return found


def _repo_closure(name: str) -> tuple[set[str], list[str]]:
    """(repository packages, third-party requirements) a distribution installs."""
    tables = dist.metadata(dist.load_project())
    packages, third_party, todo = set(), [], [name]
    while todo:
        current = todo.pop()
        packages.add(dist.DISTRIBUTIONS[current].package)
        for req in tables[current]["dependencies"]:
            sub = dist.requirement_name(req)
            (todo if sub in dist.DISTRIBUTIONS else third_party).append(
                sub if sub in dist.DISTRIBUTIONS else req)
    return packages, third_party


def _imports(package: str) -> set[str]:
    """Top-level names imported anywhere in ``package`` (lazy imports included)."""
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__"}


def test_each_distribution_takes_the_entry_points_of_its_package():
    project = dist.load_project()
    tables = dist.metadata(project)
    root = project["project"]
    for name, table in tables.items():
        package = dist.DISTRIBUTIONS[name].package
        refs = [*table.get("scripts", {}).values(),
                *(ref for group in table.get("entry-points", {}).values()
                  for ref in group.values())]
        assert all(ref.split(".")[0].split(":")[0] == package for ref in refs), name
    assert {s for t in tables.values() for s in t.get("scripts", {})} == set(root["scripts"])
    for group, entries in root["entry-points"].items():
        derived = {k: v for t in tables.values()
                   for k, v in t.get("entry-points", {}).get(group, {}).items()}
        assert derived == entries, group
    assert set(tables["cloud-manager"]["scripts"]) == {
        f"aos-cloud-manager-{s}" for s in ("api", "agent", "listener", "beat", "worker")}
    assert "openstack.aos.v1" in tables["aos-core"]["entry-points"]


def test_a_requirement_or_entry_point_no_distribution_takes_is_an_error():
    project = dist.load_project()
    project["project"]["dependencies"].append("left-pad>=1")
    with pytest.raises(dist.DistError, match="left-pad"):
        dist.metadata(project)
    assert "left-pad" not in str(dist.metadata(project, strict=False))  # one wheel still builds
    project = dist.load_project()
    project["project"]["entry-points"]["openstack.aos.v1"]["aos_x"] = "tests.cli:X"
    with pytest.raises(dist.DistError, match="ships 'tests'"):
        dist.metadata(project)


@pytest.mark.parametrize("name", list(dist.DISTRIBUTIONS))
def test_every_import_is_a_requirement_of_the_distribution(name):
    packages, third_party = _repo_closure(name)
    provided = {key for key in _closure(third_party)}
    owners = metadata.packages_distributions()
    repo = {d.package for d in dist.DISTRIBUTIONS.values()}
    missing = []
    for package in sorted(packages):
        for top in sorted(_imports(package)):
            if top in repo:
                ok = top in packages
            elif top in dist.HOST_PROVIDED.get(package, ()):
                ok = True
            else:
                ok = any(dist.canonical(o) in provided for o in owners.get(top, []))
            if not ok:
                missing.append(f"{package} imports {top}")
    assert not missing, f"{name} does not require what its code imports: {missing}"


def test_drivers_need_none_of_the_services_stack():
    _, third_party = _repo_closure("clouds-drivers")
    pulled = set(_closure(third_party)) | {dist.requirement_name(r) for r in
                                           dist.metadata(dist.load_project())["clouds-drivers"]
                                           ["dependencies"]}
    assert not pulled & {"flask", "celery", "sqlalchemy", "aos-core", "cloud-manager", "clouds"}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    built = dist.build(list(dist.DISTRIBUTIONS), out)
    by_name = {}
    for wheel in built:
        with zipfile.ZipFile(wheel) as zf:
            meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            name = Parser().parsestr(zf.read(meta).decode())["Name"]
        by_name[name] = wheel
    assert set(by_name) == set(dist.DISTRIBUTIONS)
    return by_name


def _wheel_metadata(wheel: Path) -> tuple[Message, configparser.ConfigParser]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = Parser().parsestr(
            zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        eps = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        eps.optionxform = str  # type: ignore[assignment,method-assign]
        ep_file = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        if ep_file:
            eps.read_string(zf.read(ep_file[0]).decode())
    return meta, eps


def test_wheels_name_the_derived_requirements_and_entry_points(wheels):
    tables = dist.metadata(dist.load_project())
    for name, wheel in wheels.items():
        meta, eps = _wheel_metadata(wheel)
        table = tables[name]
        assert meta["Version"] == dist.load_project()["project"]["version"]
        required = {Requirement(r) for r in meta.get_all("Requires-Dist") or []}
        plain = {str(r) for r in required if r.marker is None}
        assert plain == {str(Requirement(r)) for r in table["dependencies"]}, name
        groups = {s: dict(eps[s]) for s in eps.sections()}
        expected = dict(table.get("entry-points", {}))
        if "scripts" in table:
            expected["console_scripts"] = table["scripts"]
        assert groups == expected, name
    cm, _ = _wheel_metadata(wheels["cloud-manager"])
    assert "aos-core==" + meta["Version"] in (cm.get_all("Requires-Dist") or [])
    drivers, _ = _wheel_metadata(wheels["clouds-drivers"])
    assert {Requirement(r).name for r in drivers.get_all("Requires-Dist")} == {
        "boto3", "yandexcloud", "grpcio", "cryptography", "tenacity"}


class FreshVenv:
    """A new venv (``venv --without-pip``) where pip installs our wheels as an operator would.

    Third-party requirements already installed in the test's venv are made visible through a
    .pth file to a directory holding only the distributions ``visible`` pulls in, so the install
    runs offline and nothing else (in particular not the editable ``aos``) can be imported.
    """

    def __init__(self, root: Path, visible: list[str]) -> None:
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", root], check=True)
        self.python = root / "bin" / "python"
        purelib = subprocess.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True).stdout.strip()
        overlay = root / "overlay"
        overlay.mkdir()
        for installed in _closure(visible).values():
            site = Path(str(installed.locate_file("")))
            for top in {f.parts[0] for f in installed.files or [] if f.parts[0] != ".."}:
                if not (overlay / top).exists():
                    (overlay / top).symlink_to(site / top)
        Path(purelib, "deps-overlay.pth").write_text(f"{overlay}\n")

    def run(self, *args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environment = {"PATH": f"{self.root / 'bin'}:/usr/bin:/bin", "HOME": str(self.root),
                       **(env or {})}
        return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              cwd=cwd or self.root, env=environment, timeout=300)

    def pip(self, *args: str | Path) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "pip", "--python", self.python, *args)

    def can_import(self, module: str) -> bool:
        found = self.run(self.python, "-c", f"import importlib.util as u, sys; "
                         f"sys.exit(u.find_spec({module!r}) is None)")
        return found.returncode == 0


def _rollback_as_the_spec_says(venv: FreshVenv, *install: str | Path) -> None:
    """pip freeze before/after, install, then the spec's diff and uninstall restore `before`."""
    rollback = venv.root / "rollback"
    rollback.mkdir()
    (rollback / "pip_before.txt").write_text(venv.pip("freeze").stdout)
    done = venv.pip("install", "--no-index", "--find-links", install[0].parent, *install)
    assert done.returncode == 0, done.stderr
    (rollback / "pip_after.txt").write_text(venv.pip("freeze").stdout)
    diff = "diff --changed-group-format='%>' --unchanged-group-format='' " \
           "pip_before.txt pip_after.txt > pip_uninstall.txt"
    subprocess.run(diff, shell=True, cwd=rollback)
    uninstall = venv.pip("uninstall", "-y", "-r", rollback / "pip_uninstall.txt")
    assert uninstall.returncode == 0, uninstall.stderr
    assert venv.pip("freeze").stdout == (rollback / "pip_before.txt").read_text()


def test_clouds_drivers_alone_on_a_compute_node(wheels, tmp_path):
    _, third_party = _repo_closure("clouds-drivers")
    venv = FreshVenv(tmp_path / "node", third_party)
    done = venv.pip("install", "--no-index", "--find-links", wheels["clouds-drivers"].parent,
                    "clouds-drivers")
    assert done.returncode == 0, done.stderr
    imported = venv.run(venv.python, "-c", "import clouds_drivers.providers.aws, "
                        "clouds_drivers.providers.yandex; print(clouds_drivers.__file__)")
    assert imported.returncode == 0, imported.stderr
    assert str(venv.root) in imported.stdout
    assert [m for m in FORBIDDEN_ON_NODES if venv.can_import(m)] == []
    assert "clouds-drivers==" in venv.pip("freeze").stdout


def test_cloud_manager_wheel_gives_the_cli_and_the_services(wheels, tmp_path):
    _, third_party = _repo_closure("cloud-manager")
    venv = FreshVenv(tmp_path / "controller", third_party)
    _rollback_as_the_spec_says(venv, wheels["cloud-manager"])
    assert not venv.can_import("cloud_manager")  # the rollback removed it; install for real
    done = venv.pip("install", "--no-index", "--find-links", wheels["cloud-manager"].parent,
                    "cloud-manager")
    assert done.returncode == 0, done.stderr
    scripts = {p.name for p in (venv.root / "bin").glob("aos-*")}
    assert scripts == {f"aos-cloud-manager-{s}" for s in ("api", "agent", "listener", "beat",
                                                          "worker")}
    helped = venv.run(venv.root / "bin" / "aos-cloud-manager-worker", "--help")
    assert helped.returncode == 0 and "--config-dir" in helped.stdout, helped.stderr
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "aos.conf").write_text(f"[DEFAULT]\nstate_path = {tmp_path / 'state'}\n"
                                  f"log_root = {tmp_path / 'log'}\n")
    env = {"AOS_CONFIG_DIR": str(etc)}
    openstack = (venv.python, "-m", "openstackclient.shell")
    helped = venv.run(*openstack, "aos", "node", "list", "--help", env=env)
    assert helped.returncode == 0 and "--sort-column" in helped.stdout, helped.stderr
    migrated = venv.run(*openstack, "aos", "db", "migrate", "-n", "cloud_manager", env=env)
    assert migrated.returncode == 0 and "migrated from 0 to" in migrated.stdout, migrated.stderr
    other = venv.run(*openstack, "aos", "db", "list", "-n", "clouds", env=env)
    assert other.returncode != 0 and "unknown module 'clouds'" in other.stderr
    assert [m for m in ("clouds", "clouds_drivers") if venv.can_import(m)] == []
