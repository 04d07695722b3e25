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
            not os.environ.get("WAYLAND_DISPLAY") and platform in ("", "xcb"):
        # Qt aborts the whole process when its xcb plugin cannot load: say so instead.
        missing = missing_x11_packages()
        if missing:
            return (f"Qt's X11 plugin needs system packages that are not installed "
                    f"(as root: apt-get install {' '.join(missing)})")
    return None


# Libraries Qt's xcb platform plugin loads, and the Debian packages that hold them (the
# Makefile's QT_X11_LIBS installs the same list).
QT_X11_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1", "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0", "xcb-randr": "libxcb-randr0",
    "xcb-shape": "libxcb-shape0", "xcb-xkb": "libxcb-xkb1", "xcb-sync": "libxcb-sync1",
    "xcb-xfixes": "libxcb-xfixes0", "xcb-shm": "libxcb-shm0", "xcb-util": "libxcb-util1",
    "xkbcommon-x11": "libxkbcommon-x11-0", "X11-xcb": "libx11-xcb1", "EGL": "libegl1",
    "GL": "libgl1", "fontconfig": "libfontconfig1", "dbus-1": "libdbus-1-3",
}


def missing_x11_packages() -> list[str]:
    return [package for library, package in QT_X11_LIBRARIES.items()
            if ctypes.util.find_library(library) is None]


def diagram_path(path: str) -> Path:
    """Where the headless demo writes its picture: a fixed place the user can open."""
    return Path(tempfile.gettempdir()) / "torchcanvas-demo" / f"{Path(path).stem}.png"


def run_demo(path: str) -> int:
    """Exit code as every command's: 1 when the project has errors, 2 when it is unusable
    (load_project raises before anything is shown)."""
    project = load_project(path)
    diagnostics = validate(project)
    errors = [d for d in diagnostics if d.is_error]
    reason = why_headless()
    if reason is None:
        from builder.gui.app import run_app

        code = run_app([path])
        return code or (1 if errors else 0)
    print(f"Headless demo of {path}: {reason}.\n")
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
    from builder.gui.image_export import RenderError

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
    from builder.gui.image_export import lay_out, render_graph
    from builder.gui.project_document import ProjectDocument, network_key
    from builder.gui.theme import theme_named
    from graph_schema.layout import lacks_positions

    app = application()  # noqa: F841 (kept alive while drawing)
    doc = ProjectDocument(project)
    key = network_key(project.networks[0].name)
    if lacks_positions(project.networks[0]):
        lay_out(doc, key)
    render_graph(doc, key, out, theme_named("light"))
