"""Imports point down: graph_schema < codegen < builder, and Qt stays in builder.gui.

Checked twice: by import-linter's contracts in pyproject.toml, and by a plain ``ast`` walk that
holds even where import-linter is not installed.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "graph_schema": {"torch", "PySide6", "codegen", "builder"},
    "codegen": {"PySide6", "builder"},
    "builder.training": {"PySide6", "builder.gui"},
}


def _lint_imports() -> str | None:
    beside = Path(sys.executable).parent / "lint-imports"
    if beside.exists():
        return str(beside)
    return shutil.which("lint-imports")


def test_import_linter_contracts_hold():
    command = _lint_imports()
    if command is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([command, "--no-cache"], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"lint-imports failed:\n{result.stdout}\n{result.stderr}"


def _imported_modules(tree: ast.AST, path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's own package
                parts = path.relative_to(REPO_ROOT).with_suffix("").parts[:-node.level]
                base = ".".join(parts)
                if node.module:
                    found.append((node.lineno, f"{base}.{node.module}"))
                else:
                    found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
            elif node.module:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append((node.lineno, argument.value))
    return found


def _is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in {"__import__", "import_module"}
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports_in_source(package):
    files = sorted((REPO_ROOT / package.replace(".", "/")).rglob("*.py"))
    assert files, f"no Python files found under {package}/"
    violations = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for lineno, module in _imported_modules(tree, path):
            if any(module == banned or module.startswith(f"{banned}.")
                   for banned in FORBIDDEN[package]):
                violations.append(f"{path.relative_to(REPO_ROOT)}:{lineno}: imports {module}")
    assert not violations, (f"{package} must not import {', '.join(sorted(FORBIDDEN[package]))}:\n"
                            + "\n".join(violations))


def test_the_ast_check_sees_every_import_form(tmp_path):
    source = (
        "import torch.nn as nn\n"
        "from PySide6 import QtCore\n"
        "def later():\n"
        "    import builder.cli\n"
        "    importlib.import_module('codegen')\n"
        "from . import sibling\n"
    )
    fake = REPO_ROOT / "graph_schema" / "fake.py"
    modules = {m for _, m in _imported_modules(ast.parse(source), fake)}
    assert modules == {"torch.nn", "PySide6", "builder.cli", "codegen", "graph_schema.sibling"}


def test_validate_and_generate_start_without_torch():
    """The commands that only read and write text must not pay seconds for `import torch`."""
    code = ("import sys; import builder.cli, codegen, codegen.train_script, builder.trust_command;"
            " print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


_OPEN_AND_RENDER = r"""
import sys
from builder.cli import main
if main(["render", sys.argv[1], "-o", sys.argv[2]]) != 0:
    sys.exit("render failed")
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
from builder.gui import app as gui_app

def painted():
    windows = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, QMainWindow) and w.isVisible()]
    titles = [w.windowTitle() for w in windows]
    for window in windows:
        window.grab()
    print(titles, "torch" in sys.modules)
    QApplication.quit()

gui_app.application()
QTimer.singleShot(0, painted)
sys.exit(gui_app.run_app([sys.argv[1]]))
"""


def test_opening_and_rendering_a_project_does_not_import_torch(tmp_path):
    """Editing and painting never need torch: the app's start and `render` do not pay the
    seconds it costs (it is imported where code is exported or models imported)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home),
           "XDG_DATA_HOME": str(home), "XDG_CACHE_HOME": str(home),
           "QT_QPA_PLATFORM": "offscreen"}
    project = REPO_ROOT / "examples" / "digits_cnn.json"
    done = subprocess.run([sys.executable, "-c", _OPEN_AND_RENDER, str(project),
                           str(tmp_path / "out.png")], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.png").stat().st_size > 0
    titles, torch_loaded = done.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert "digits_cnn" in titles  # the file really opened in a window
    assert torch_loaded == "False"


def test_imports_draw_no_circles():
    """Imports form a tree-like structure: no module reaches itself through imports, not even
    through imports inside functions (which would only hide a circle)."""
    grimp = pytest.importorskip("grimp")
    import networkx as nx

    graph = grimp.build_graph("graph_schema", "codegen", "builder", cache_dir=None)
    imports = nx.DiGraph()
    for module in graph.modules:
        imports.add_edges_from((module, imported)
                               for imported in graph.find_modules_directly_imported_by(module))
    circles = [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1]
    assert circles == []
