#!/usr/bin/env python3
"""Build the distributions the spec installs (``pip3 install cloud-manager`` …) as wheels.

One repository, one development install (the root ``pyproject.toml``, ``pip install -e .``), and
several distributions for operators. The root file stays the single source of truth: each
distribution below takes

- its import package (the whole tree, with the root's package-data patterns),
- every console script and entry point of the root file whose object lives in that package
  (``cloud_manager.cli.nodes:NodeList`` goes to the distribution of ``cloud_manager``),
- the requirements named in DISTRIBUTIONS, with the version specifiers the root file gives them
  (in ``dependencies`` or any extra); a repository distribution is pinned to the same version.

A requirement of the root file that no distribution takes, or an entry point whose package no
distribution ships, is an error: nothing is dropped silently when someone adds one.
Stdlib only: the sandbox runs it with its OpenStack venv's Python (pip and setuptools).

    python tools/dist.py [--out dist] [NAME ...]      # default: every distribution
    python tools/dist.py --fingerprint NAME           # what the sandbox checks before rebuilding
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.egg-info")


@dataclass(frozen=True)
class Dist:
    package: str
    summary: str
    #: names of root-file requirements or of other distributions here; extras keep their own
    requires: tuple[str, ...] = ()
    extras: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: files of the package also put at the wheel's root (site-packages): ``.pth`` hooks
    root_files: tuple[str, ...] = ()


#: The one table to edit when a package needs another library.
DISTRIBUTIONS: dict[str, Dist] = {
    "aos-core": Dist(
        "aos",
        "AOS shared core: configuration, database, API base, task queue, `openstack aos` CLI",
        ("oslo.config", "oslo.log", "oslo.policy", "keystonemiddleware", "openstacksdk",
         "osc-lib", "python-openstackclient", "SQLAlchemy", "alembic", "PyMySQL", "celery",
         "tooz", "cryptography", "Flask", "Werkzeug", "gunicorn", "jsonschema", "keystoneauth1",
         "tenacity"),
        {"postgresql": ("psycopg2-binary",)},
    ),
    "cloud-manager": Dist(
        "cloud_manager",
        "AOS CloudManager: compute-node management and instance high availability",
        ("aos-core", "oslo.messaging", "pyghmi", "sushy", "paramiko", "requests", "rich",
         "python-watcherclient", "isc_dhcp_leases", "cotyledon"),
    ),
    "clouds": Dist(
        "clouds",
        "AOS Clouds: OpenStack projects backed by AWS or Yandex.Cloud (API and worker)",
        ("aos-core", "clouds-drivers", "cachetools"),
    ),
    # Loaded inside nova-compute, cinder-volume, glance-api and neutron-server: it takes
    # nothing of aos/ (configuration files, database, API, Celery: service plumbing); drivers
    # read the host service's own configuration and reach the Clouds API over HTTP. It ships
    # the cloud providers (clouds_drivers.providers), which the Clouds service uses too.
    "clouds-drivers": Dist(
        "clouds_drivers",
        "AOS Clouds drivers for Nova, Cinder, Glance and Neutron",
        ("boto3", "yandexcloud", "grpcio", "cryptography", "tenacity"),
        # Nova imports compute drivers under nova.virt only: this hook maps the spec's
        # clouds_drivers.nova.virt.… there (clouds_drivers/nova/virt_alias.py).
        root_files=("clouds_drivers/nova/clouds_drivers_virt_alias.pth",),
    ),
}


#: Libraries a package imports that the OpenStack service loading it already runs on: never
#: requirements (pip would pull in, or upgrade, Neutron under the operator's feet).
HOST_PROVIDED: dict[str, tuple[str, ...]] = {
    "clouds_drivers": ("neutron", "neutron_lib", "nova", "cinder", "glance_store",
                       "keystoneauth1", "oslo_config", "oslo_log", "oslo_utils",
                       "oslo_serialization", "os_resource_classes"),
}


class DistError(Exception):
    """The root file and DISTRIBUTIONS disagree, or a build failed: one line for the user."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise DistError(f"cannot read the name of requirement {requirement!r}")
    return canonical(match.group(1))


def load_project(path: Path = PYPROJECT) -> dict:
    return tomllib.loads(path.read_text())


def _root_requirements(project: dict, dev_extras: tuple[str, ...] = ("test",)) -> dict[str, str]:
    """Canonical name → requirement string, from ``dependencies`` and every non-dev extra."""
    lists = [project["project"].get("dependencies", [])]
    lists += [reqs for extra, reqs in project["project"].get("optional-dependencies", {}).items()
              if extra not in dev_extras]
    return {requirement_name(req): req for reqs in lists for req in reqs}


def _owner(reference: str, what: str) -> str:
    """The distribution shipping the module of ``module.path:attr``."""
    top = reference.split(":", 1)[0].strip().split(".", 1)[0]
    for name, dist in DISTRIBUTIONS.items():
        if dist.package == top:
            return name
    raise DistError(f"{what} = {reference}: no distribution in tools/dist.py ships {top!r}")


def _resolve(name: str, requirements: dict[str, str], version: str, whose: str) -> str:
    if name in DISTRIBUTIONS:
        return f"{name}=={version}"
    try:
        return requirements[canonical(name)]
    except KeyError:
        raise DistError(f"{whose} requires {name!r}, which pyproject.toml does not list") from None


def metadata(project: dict, strict: bool = True) -> dict[str, dict]:
    """The generated ``[project]`` table of every distribution, derived from the root file.

    ``strict``: a requirement of the root file that no distribution takes is an error (when
    building one distribution, e.g. the sandbox's drivers, another's table is not its concern).
    """
    root = project["project"]
    version = root["version"]
    requirements = _root_requirements(project)
    out: dict[str, dict] = {}
    for name, dist in DISTRIBUTIONS.items():
        table: dict = {
            "name": name,
            "version": version,
            "description": dist.summary,
            "requires-python": root["requires-python"],
            "license": root["license"],
            "dependencies": [_resolve(r, requirements, version, name) for r in dist.requires],
        }
        if dist.extras:
            table["optional-dependencies"] = {
                extra: [_resolve(r, requirements, version, f"{name}[{extra}]") for r in reqs]
                for extra, reqs in dist.extras.items()
            }
        out[name] = table
    for script, reference in root.get("scripts", {}).items():
        owner = out[_owner(reference, f"script {script}")]
        owner.setdefault("scripts", {})[script] = reference
    for group, entries in root.get("entry-points", {}).items():
        for entry, reference in entries.items():
            owner = out[_owner(reference, f"entry point [{group}] {entry}")]
            owner.setdefault("entry-points", {}).setdefault(group, {})[entry] = reference
    taken = {requirement_name(req) for table in out.values()
             for reqs in [table["dependencies"], *table.get("optional-dependencies", {}).values()]
             for req in reqs}
    lost = sorted(set(requirements) - taken)
    if lost and strict:
        raise DistError(f"pyproject.toml requires {', '.join(lost)} but no distribution in "
                        "tools/dist.py DISTRIBUTIONS does: add them where they are imported")
    return out


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def pyproject_text(project: dict, name: str, strict: bool = True) -> str:
    """The staged ``pyproject.toml`` of one distribution."""
    table = metadata(project, strict)[name]
    package = DISTRIBUTIONS[name].package
    build = project["build-system"]
    lines = ["[build-system]", f"requires = {_toml_value(build['requires'])}",
             f"build-backend = {_toml_value(build['build-backend'])}", "", "[project]"]
    nested = ("scripts", "optional-dependencies", "entry-points")
    lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()
              if key not in nested]
    for key in ("scripts", "optional-dependencies"):
        if key in table:
            lines += ["", f"[project.{key}]"]
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in table[key].items()]
    for group, entries in table.get("entry-points", {}).items():
        lines += ["", f"[project.entry-points.{json.dumps(group)}]"]
        lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in entries.items()]
    setuptools = project.get("tool", {}).get("setuptools", {})
    lines += ["", "[tool.setuptools.packages.find]",
              f"include = {_toml_value([package, package + '.*'])}"]
    if "package-data" in setuptools:
        lines += ["", "[tool.setuptools.package-data]"]
        lines += [f"{json.dumps(k)} = {_toml_value(v)}"
                  for k, v in setuptools["package-data"].items()]
    return "\n".join(lines) + "\n"


def _package_files(package: str) -> list[Path]:
    base = ROOT / package
    return sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix not in (".pyc", ".pyo"))


def fingerprint(name: str, project: dict | None = None) -> str:
    """A hash of what the wheel of ``name`` is built from (sources and generated metadata)."""
    project = project or load_project()
    digest = hashlib.sha256(pyproject_text(project, name, strict=False).encode())
    for path in _package_files(DISTRIBUTIONS[name].package):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# setuptools reads [project] (PEP 621) from 61 on, and builds wheels without the `wheel`
# package from 70.1 on.
CAN_BUILD = """
import importlib.util, sys, setuptools
version = tuple(int(p) for p in setuptools.__version__.split(".")[:2])
sys.exit(not (version >= (70, 1) or version >= (61, 0) and importlib.util.find_spec("wheel")))
"""


BUILD_WHEEL = "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])"


def _has_setuptools(python: str) -> bool:
    return subprocess.run([python, "-c", CAN_BUILD], capture_output=True).returncode == 0


def _pip_error(output: str) -> str:
    """The line of pip's output that says what went wrong."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["pip wheel failed"])[-1]


def build(names: list[str], out: Path, python: str = sys.executable) -> list[Path]:
    """Stage each distribution in a temporary directory and build its wheel into ``out``."""
    unknown = [n for n in names if n not in DISTRIBUTIONS]
    if unknown:
        raise DistError(f"unknown distribution {', '.join(unknown)} "
                        f"(known: {', '.join(DISTRIBUTIONS)})")
    project = load_project()
    strict = set(names) == set(DISTRIBUTIONS)  # `make dist`: every requirement must land
    out.mkdir(parents=True, exist_ok=True)
    # The PEP 517 hook of the interpreter's own setuptools when it can (no download, no pip:
    # 2 s instead of 10 on a busy machine), else pip in an isolated build environment.
    own = _has_setuptools(python)
    wheels = []
    for name in names:
        package = DISTRIBUTIONS[name].package
        with tempfile.TemporaryDirectory(prefix=f"aos-dist-{name}-") as tmp:
            stage = Path(tmp)
            shutil.copytree(ROOT / package, stage / package, ignore=IGNORED)
            (stage / "pyproject.toml").write_text(pyproject_text(project, name, strict))
            wheel_dir = stage / "wheel"
            command = ([python, "-c", BUILD_WHEEL, str(wheel_dir)] if own else
                       [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir),
                        str(stage)])
            done = subprocess.run(command, capture_output=True, text=True, cwd=stage)
            if done.returncode != 0:
                raise DistError(f"building {name} failed: {_pip_error(done.stderr + done.stdout)}")
            (built,) = wheel_dir.glob("*.whl")
            add_root_files(built, [ROOT / f for f in DISTRIBUTIONS[name].root_files])
            target = out / built.name
            shutil.move(built, target)
            wheels.append(target)
    return wheels


def add_root_files(wheel: Path, files: list[Path]) -> None:
    """Put ``files`` at the root of ``wheel`` (installed into site-packages) and in RECORD.

    setuptools has no place for a ``.pth`` beside the packages; the wheel format has one.
    """
    if not files:
        return
    with zipfile.ZipFile(wheel) as old:
        entries = [(info, old.read(info)) for info in old.infolist()]
    record_name = next(i.filename for i, _ in entries if i.filename.endswith(".dist-info/RECORD"))
    added = []
    for path in files:
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        added.append((path.name, data, f"{path.name},sha256={digest},{len(data)}"))
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in entries:
            if info.filename == record_name:
                data = data + "".join(f"{line}\n" for _, _, line in added).encode()
            new.writestr(info, data)
        for name, data, _ in added:
            new.writestr(name, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"distributions to build (default: {' '.join(DISTRIBUTIONS)})")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="wheel directory")
    parser.add_argument("--fingerprint", action="store_true",
                        help="print a hash of what each wheel is built from; build nothing")
    args = parser.parse_args(argv)
    names = args.names or list(DISTRIBUTIONS)
    try:
        if args.fingerprint:
            project = load_project()
            for name in names:
                print(fingerprint(name, project))
            return 0
        for wheel in build(names, args.out):
            print(wheel)
    except DistError as exc:
        print(f"dist: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
