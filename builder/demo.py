"""`make run`'s main job: open the app on a project, or show the same project headless.

With a display, the desktop app opens on the project. Without one, the demo says why, then
shows what TorchCanvas makes of the project without a window: the validation report, the
layer summary, the generated PyTorch code, and the diagram rendered to a PNG file.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
import tempfile
from pathlib import Path

from builder.render_command import display_missing
from graph_schema import load_project, validate
from graph_schema.document import Project
from graph_schema.summary import render_table, summarize


def why_headless() -> str | None:
    """The reason the desktop app cannot open here, or None when it can."""
    missing = display_missing()
    if missing:
        return missing
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform == "offscreen":
        return "QT_QPA_PLATFORM=offscreen asks for no window"
    if sys.platform.startswith("linux") and os.environ.get("DISPLAY") and \
            not os.environ.get("WAYLAND_DISPLAY") and platform in ("", "xcb") and \
            ctypes.util.find_library("xcb-cursor") is None:
        # Qt aborts the whole process when its xcb plugin cannot load: say so instead.
        return ("Qt's X11 plugin needs the libxcb-cursor0 system package "
                "(as root: apt-get install libxcb-cursor0)")
    return None


def diagram_path(path: str) -> Path:
    """Where the headless demo writes its picture: a fixed place the user can open."""
    return Path(tempfile.gettempdir()) / "torchcanvas-demo" / f"{Path(path).stem}.png"


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
    print(f"\n== torchcanvas generate {path}")
    _show_code(project)
    print(f"\n== torchcanvas render {path}")
    _show_diagram(project, path)
    return 1 if errors else 0


def _show_code(project: Project) -> None:
    from codegen import GenerationError, generate_source

    try:
        print(generate_source(project), end="")
    except GenerationError as err:
        print(f"no code: {err}")


def _show_diagram(project: Project, path: str) -> None:
    if not project.networks:
        print("no diagram: the project has no network")
        return
    # No window here whatever the display: draw offscreen (Qt reads this once, at start-up).
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from builder.gui.render import RenderError

    out = diagram_path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _render(project, out)
    except (OSError, RenderError) as err:
        print(f"no diagram: {err}")
        return
    print(f"the diagram of network '{project.networks[0].name}' is in {out}")


def _render(project: Project, out: Path) -> None:
    from builder.gui.app import application
    from builder.gui.document import ProjectDocument, network_key
    from builder.gui.render import render_graph
    from builder.gui.theme import theme_named

    app = application()  # noqa: F841 (kept alive while drawing)
    doc = ProjectDocument(project)
    render_graph(doc, network_key(project.networks[0].name), out, theme_named("light"))
