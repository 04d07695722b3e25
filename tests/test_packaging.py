"""A real (non-editable) wheel carries every module, the templates and the command.

Editable installs read templates straight from the checkout, so a missing package-data entry
would only show once someone installs the wheel; this builds one to catch that here.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("builder", "codegen", "graph_schema", "templates")


def _why_no_wheel_build() -> str | None:
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed, so no wheel can be built without network access"
    version = importlib.metadata.version("setuptools")
    major, minor = (int(part) for part in version.split(".")[:2])
    # setuptools builds wheels by itself from 70.1; before that it needs the wheel package.
    if (major, minor) < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {version} needs the 'wheel' package to build wheels"
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, zipfile.ZipFile]:
    reason = _why_no_wheel_build()
    if reason:
        pytest.skip(reason)
    # Build from a copy: an in-tree build leaves build/ and *.egg-info behind, and a stale
    # build/lib could hide a file that the real packaging rules would leave out.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        if (REPO_ROOT / name).exists():
            shutil.copy2(REPO_ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(REPO_ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"wheel build failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(out.glob("torchcanvas-*.whl"))
    assert len(wheels) == 1, f"expected one torchcanvas wheel, found {wheels}"
    with zipfile.ZipFile(wheels[0]) as archive:
        yield source, archive


def _source_files(root: Path, package: str, suffixes: tuple[str, ...] | None = None) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in (root / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        and (suffixes is None or path.suffix in suffixes)
    }


def test_every_template_is_in_the_wheel(built):
    source, archive = built
    templates = _source_files(source, "templates")
    assert any(name.endswith(".j2") for name in templates), "no templates found to check"
    missing = templates - set(archive.namelist())
    assert not missing, f"templates left out of the wheel: {sorted(missing)}"


def test_every_module_is_in_the_wheel(built):
    source, archive = built
    modules = set().union(*(_source_files(source, p, (".py",)) for p in PACKAGES))
    assert "graph_schema/catalog/__init__.py" in modules
    missing = modules - set(archive.namelist())
    assert not missing, f"modules left out of the wheel: {sorted(missing)}"


def test_the_wheel_declares_the_torchcanvas_command(built):
    _, archive = built
    [entry_points] = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    parser = configparser.ConfigParser()
    parser.read_string(archive.read(entry_points).decode("utf-8"))
    assert parser.get("console_scripts", "torchcanvas").strip() == "builder.cli:main"


def test_the_wheel_holds_only_our_packages(built):
    _, archive = built
    tops = {name.split("/")[0] for name in archive.namelist()}
    extra = {top for top in tops if not top.endswith(".dist-info")} - set(PACKAGES)
    assert not extra, f"unexpected top-level entries in the wheel: {sorted(extra)}"
