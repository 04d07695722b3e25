"""`make run`'s main job: open the app on a project, or show the same project headless.

The headless demo says why it is headless, then shows what the command line can do with the
project today: validation and the layer summary.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from graph_schema import load_project, validate
from graph_schema.summary import render_table, summarize


def why_headless() -> str | None:
    """The reason the desktop app cannot open here, or None when it can."""
    if importlib.util.find_spec("builder.gui.app") is None:
        return "this build of TorchCanvas has no desktop app yet"
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return "QT_QPA_PLATFORM=offscreen asks for no window"
    return None


def run_demo(path: str) -> int:
    reason = why_headless()
    if reason is None:
        from builder.gui.app import run_app

        return run_app([path])
    print(f"Headless demo of {path}: {reason}.\n")
    project = load_project(path)
    diagnostics = validate(project)
    errors = [d for d in diagnostics if d.is_error]
    print(f"== torchcanvas validate {path}")
    for diagnostic in diagnostics:
        print(diagnostic.format(path))
    print(f"{'invalid' if errors else 'valid'}: {len(errors)} error(s), "
          f"{len(diagnostics) - len(errors)} warning(s)\n")
    print(f"== torchcanvas summary {path}")
    for network in project.networks:
        print(render_table(summarize(project, network)))
    return 1 if errors else 0
