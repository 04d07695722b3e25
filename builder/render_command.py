"""`torchcanvas render FILE -o OUT.(png|svg|pdf)`: the diagram of a network or of a block,
without a window.

It draws with the desktop app's own painting code (builder/gui/image_export.py), so Qt is imported
only when this command runs, after choosing the offscreen platform where there is no display.
A project with errors is still drawn (the diagnostics show as on the canvas: red edges,
badges); the error count goes to stderr and the exit code stays 0. Input that cannot be used
at all (an unreadable file, a bad extension, an unknown network or block) exits 2 with one line.

``draw_graph`` and ``draw_graphs`` are the same drawing for callers in this process
(docs/build_gallery.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from builder.outputs import add_force_argument, output_problem, unusable
from graph_schema import ProjectError, load_project, validate
from graph_schema.document import FLOWS
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
    which = p.add_mutually_exclusive_group()
    which.add_argument("--network", help="which network to draw (default: the first)")
    which.add_argument("--block", help="draw this block's own graph instead of a network (its "
                       "shapes come from its first placement, as in the block's tab)")
    p.add_argument("--theme", choices=THEMES, default="light", help="colours (default: light)")
    p.add_argument("--layout", action="store_true",
                   help="lay the network out first (done anyway when the file has no node "
                        "positions)")
    p.add_argument("--flow", choices=FLOWS,
                   help="draw top to bottom (down) or left to right (right) instead of the "
                        "project's own flow; a graph turned this way is laid out in it")
    p.add_argument("--with-messages", action="store_true",
                   help="write each error's and warning's message beside its node's badge "
                        "(the picture has no tooltips)")
    p.add_argument("--scale", type=float, metavar="S",
                   help="PNG pixels per canvas unit (default 2: sharp on HiDPI screens; 1 is "
                        "the canvas at 100%% on a plain screen)")
    p.add_argument("--depth", type=_depth, default=0, metavar="N",
                   help="draw blocks open in place, framed, N levels deep (default 0: each "
                        "block is one node)")
    add_force_argument(p, "OUT")
    p.set_defaults(run=cmd_render)


def _depth(text: str) -> int:
    """--depth's value: a whole number from 0 up (argparse reports anything else)."""
    try:
        depth = int(text)
    except ValueError:
        depth = -1
    if depth < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number 0 or more, got {text!r}")
    return depth


def cmd_render(args: argparse.Namespace) -> int:
    use_offscreen_without_display()
    from builder.gui.image_export import PNG_SCALE, RenderError, check_format, check_scale

    try:
        suffix = check_format(args.output)
        if args.scale is not None and suffix != ".png":
            raise RenderError(f"--scale is for PNG pictures; {suffix[1:].upper()} is drawn "
                              f"as vectors")
        check_scale(PNG_SCALE if args.scale is None else args.scale)
        project = load_project(args.file)
    except (RenderError, ProjectError) as err:
        return unusable(str(err))
    problem = output_problem(args.output, [args.file], args.force)
    if problem:
        return unusable(problem)
    key, problem = _chosen_graph(project, args)
    if problem:
        return unusable(f"{args.file}: {problem}")
    # Counted as validate counts them: the picture shows them where the canvas would.
    errors = sum(1 for d in validate(project) if d.is_error)
    graph = project.network(key[1]) if key[0] == "network" else project.block(key[1])
    if not args.layout and lacks_positions(graph):
        args.layout = True
        print(f"{args.file}: {key[0]} {key[1]!r} has no node positions; laid it out "
              f"automatically", file=sys.stderr)
    turned = args.flow is not None and args.flow != project.flow
    if turned:
        # Positions made for the other direction would run every edge into a box's side:
        # the graph is laid out again, and so is every block that is drawn open in it.
        project.flow, args.layout = args.flow, True
    try:
        draw_graph(project, key, args.output, args.theme, args.layout, args.scale,
                   depth=args.depth, with_messages=args.with_messages,
                   lay_out_blocks=turned and args.depth > 0)
    except RenderError as err:
        return unusable(str(err))
    if key[0] == "network" and len(project.networks) > 1 and args.network is None:
        print(f"{args.file}: drew network {key[1]!r} of {len(project.networks)} "
              f"(choose another with --network)", file=sys.stderr)
    if errors:
        print(f"{args.file}: {errors} error{'s' * (errors != 1)}, shown in the diagram",
              file=sys.stderr)
    print(f"wrote {args.output}")
    return EXIT_OK


def _chosen_graph(project, args: argparse.Namespace) -> tuple[tuple[str, str], str | None]:
    """The graph key to draw, or a problem: ``(("network" | "block", name), None)``."""
    if args.block is not None:
        blocks = [b.name for b in project.blocks]
        if args.block not in blocks:
            have = f"the project has {', '.join(blocks)}" if blocks else "the project has none"
            return ("block", args.block), f"no block named {args.block!r}; {have}"
        return ("block", args.block), None
    names = [n.name for n in project.networks]
    network = args.network if args.network is not None else names[0] if names else None
    if network not in names:
        if not names:
            return ("network", ""), "the project has no network to draw"
        return ("network", network), (f"no network named {args.network!r}; the project has "
                                      f"{', '.join(names)}")
    return ("network", network), None


def draw_graph(project, key: tuple[str, str], output, theme: str = "light",
               layout: bool = False, scale: float | None = None, depth: int = 0,
               with_messages: bool = False, lay_out_blocks: bool = False) -> None:
    """Draw graph ``key`` (``("network", name)`` or ``("block", name)``) of ``project`` to
    ``output`` with the canvas's painting code; RenderError when it cannot be written.
    ``scale``: PNG pixels per canvas unit (None: the default); ``depth``: levels of blocks
    drawn open in place; ``with_messages``: each diagnostic's message beside its node;
    ``lay_out_blocks``: lay every block out too (their bodies are drawn in the frames)."""
    draw_graphs(project, {key: (output, scale)}, theme, layout, depth=depth,
                with_messages=with_messages, lay_out_blocks=lay_out_blocks)


def draw_graphs(project, outputs: dict, theme: str = "light", layout: bool = False,
                depth: int = 0, with_messages: bool = False,
                lay_out_blocks: bool = False) -> None:
    """Draw several graphs of one project, ``{key: (output, scale or None)}``, analysing the
    project once.

    The drawing uses a copy: the caller's project never sees auto layout's positions."""
    from builder.gui.app import application
    from builder.gui.image_export import PNG_SCALE, lay_out, render_graph
    from builder.gui.theme import theme_named

    app = application()  # noqa: F841 (kept alive while drawing)
    from builder.gui.project_document import ProjectDocument

    doc = ProjectDocument(project.model_copy(deep=True))
    for block in doc.project.blocks if lay_out_blocks else ():
        if block.opaque is None:
            lay_out(doc, ("block", block.name))
    for key, (output, scale) in outputs.items():
        if layout:
            lay_out(doc, key)
        render_graph(doc, key, output, theme_named(theme),
                     scale=PNG_SCALE if scale is None else scale, depth=depth,
                     with_messages=with_messages)


