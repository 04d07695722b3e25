"""`torchcanvas render FILE -o OUT.(png|svg|pdf)`: the diagram of a network, without a window.

It draws with the desktop app's own painting code (builder/gui/render.py), so Qt is imported
only when this command runs, after choosing the offscreen platform where there is no display.
A project with errors is still drawn (the diagnostics show as on the canvas: red edges,
badges); the error count goes to stderr and the exit code stays 0. Input that cannot be used
at all (an unreadable file, a bad extension, an unknown network) exits 2 with one line.
"""

from __future__ import annotations

import argparse
import os
import sys

from builder.outputs import add_force_argument, output_problem, unusable
from graph_schema import ProjectError, load_project, validate
from graph_schema.layout import lacks_positions

EXIT_OK, EXIT_UNUSABLE = 0, 2
THEMES = ("light", "dark")


def display_missing() -> str | None:
    """Why no window can be shown here, or None when a display is available."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display was found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def use_offscreen_without_display() -> None:
    """Choose Qt's offscreen platform when there is no display and the user chose none.

    Must run before the QApplication exists: Qt reads the variable once, at start-up.
    """
    if display_missing() and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def add_render_parser(sub) -> None:
    p = sub.add_parser("render", help="draw a network's diagram to PNG, SVG or PDF (no window)")
    p.add_argument("file")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="the image to write; .png, .svg or .pdf")
    p.add_argument("--network", help="which network to draw (default: the first)")
    p.add_argument("--theme", choices=THEMES, default="light", help="colours (default: light)")
    p.add_argument("--layout", action="store_true",
                   help="lay the network out first (done anyway when the file has no node "
                        "positions)")
    add_force_argument(p, "OUT")
    p.set_defaults(run=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    use_offscreen_without_display()
    from builder.gui.render import RenderError, check_format

    try:
        check_format(args.output)
        project = load_project(args.file)
    except (RenderError, ProjectError) as err:
        return unusable(str(err))
    problem = output_problem(args.output, [args.file], args.force)
    if problem:
        return unusable(problem)
    names = [n.name for n in project.networks]
    network = args.network if args.network is not None else names[0] if names else None
    if network not in names:
        if not names:
            return unusable(f"{args.file}: the project has no network to draw")
        return unusable(f"{args.file}: no network named {args.network!r}; the project has "
                     f"{', '.join(names)}")
    # Counted as validate counts them: the picture shows them where the canvas would.
    errors = sum(1 for d in validate(project) if d.is_error)
    if not args.layout and lacks_positions(project.network(network)):
        args.layout = True
        print(f"{args.file}: network {network!r} has no node positions; laid it out "
              f"automatically", file=sys.stderr)
    try:
        _render(project, network, args)
    except RenderError as err:
        return unusable(str(err))
    if len(names) > 1 and args.network is None:
        print(f"{args.file}: drew network {network!r} of {len(names)} "
              f"(choose another with --network)", file=sys.stderr)
    if errors:
        print(f"{args.file}: {errors} error{'s' * (errors != 1)}, shown in the diagram",
              file=sys.stderr)
    print(f"wrote {args.output}")
    return EXIT_OK


def _render(project, network: str, args: argparse.Namespace) -> None:
    from builder.gui.app import application
    from builder.gui.document import ProjectDocument, network_key
    from builder.gui.render import lay_out, render_graph
    from builder.gui.theme import theme_named

    app = application()  # noqa: F841 (kept alive while drawing)
    doc = ProjectDocument(project)
    key = network_key(network)
    if args.layout:
        lay_out(doc, key)
    render_graph(doc, key, args.output, theme_named(args.theme))
