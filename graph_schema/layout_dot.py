"""Layout by Graphviz's ``dot``, guarded: any failure returns None and the caller falls back.

The graph goes to ``dot -Tjson0`` through a subprocess with a time limit (the graphviz package
can build the source but cannot bound the run, and dot can take minutes on a huge graph).
Scene units are points: 72 to the inch, which is what dot measures sizes in. Nodes are named
by number, so no id from a file ever needs quoting in the dot source. A rightward flow is
``rankdir=LR``: dot keeps ``width`` horizontal and ``height`` vertical in its output whatever
the direction, so the sizes are given as they are, and ``ordering`` then keeps ports top to
bottom, as the canvas draws them on a node's sides.

Dot's own edge splines come back too, keyed like graph_schema.routing's routes (source id,
source port, target id, target port), as chains of cubic Bézier control points (3k+1 points:
p0, c1, c2, p1, c1, c2, p2, ...) in the same coordinates as the boxes. They are not snapped to
the canvas's ports: dot knows no ports, so its splines end where dot aimed them, on the box
border towards the box's centre, and moving those ends to ports half a box away would bend the
last curve into whatever stands beside it. The canvas routes with graph_schema.routing, which
starts and ends at the real ports and is checked to miss every box; dot's splines are a hint
(which side of a column an edge went round) and what a caller may draw when it has no ports.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
import subprocess
from typing import NamedTuple

import graphviz

from graph_schema.layout_graph import LayoutGraph, RouteKey

log = logging.getLogger(__name__)

DOT_EXECUTABLE = "dot"
DOT_TIMEOUT_S = 10.0
# Above these, dot takes seconds to minutes; the built-in layout takes milliseconds.
DOT_MAX_NODES = 2_000
DOT_MAX_EDGES = 4_000
POINTS_PER_INCH = 72.0
RANKDIRS = {"down": "TB", "right": "LR"}  # the project's flow, in dot's words

Box = tuple[float, float]  # top-left corner
Spline = tuple[tuple[float, float], ...]  # cubic Bézier chain, 3k+1 control points


class DotLayout(NamedTuple):
    boxes: list[Box]
    routes: dict[RouteKey, Spline]


def find_dot() -> str | None:
    return shutil.which(DOT_EXECUTABLE)


@functools.lru_cache(maxsize=8)
def _runs(path: str) -> bool:
    try:
        subprocess.run([path, "-V"], capture_output=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def graphviz_available() -> bool:
    """Whether the ``dot`` executable can be run (probed once per executable found)."""
    path = find_dot()
    return path is not None and _runs(path)


def small_enough_for_dot(graph: LayoutGraph) -> bool:
    return len(graph) <= DOT_MAX_NODES and len(graph.edges) <= DOT_MAX_EDGES


def _inches(points: float) -> str:
    return f"{max(points / POINTS_PER_INCH, 0.01):.4f}"


def _orderings(graph: LayoutGraph) -> dict[int, str]:
    """dot's per-node ``ordering``: "in" keeps a merge's inputs left to right by port;
    "out" does the same for the outputs of a node that sends several ports onward (a split,
    an LSTM's output and state) and merges nothing (one attribute per node)."""
    inputs: dict[int, int] = {}
    output_ports: dict[int, set[int]] = {}
    for edge in graph.edges:
        inputs[edge.target] = inputs.get(edge.target, 0) + 1
        output_ports.setdefault(edge.source, set()).add(edge.source_port)
    orderings = {node: "in" for node, count in inputs.items() if count > 1}
    for node, ports in output_ports.items():
        if len(ports) > 1 and node not in orderings:
            orderings[node] = "out"
    return orderings


def dot_source(graph: LayoutGraph, rank_gap: float, node_gap: float,
               flow: str = "down") -> str:
    digraph = graphviz.Digraph()
    digraph.attr("graph", rankdir=RANKDIRS[flow], nodesep=_inches(node_gap),
                 ranksep=_inches(rank_gap))
    digraph.attr("node", shape="box", fixedsize="true", label="", margin="0")
    orderings = _orderings(graph)
    for i, (width, height) in enumerate(zip(graph.widths, graph.heights)):
        extra = {"ordering": orderings[i]} if i in orderings else {}
        digraph.node(f"n{i}", width=_inches(width), height=_inches(height), **extra)
    # Listed by input port, then output port: the order the ordering attributes keep. The id
    # (the edge's place in graph.edges) only comes back in the output, to find its spline.
    order = sorted(range(len(graph.edges)), key=lambda i: (
        graph.edges[i].target_port, graph.edges[i].source_port, graph.edges[i].target,
        graph.edges[i].source))
    for i in order:
        edge = graph.edges[i]
        digraph.edge(f"n{edge.source}", f"n{edge.target}", id=f"e{i}")
    return digraph.source


def _spline(pos: str, top: float) -> Spline:
    """Control points from an edge's ``pos`` ("e,x,y" arrow tip and "s,x,y" start, then the
    B-spline's points), y flipped; the arrow's stretch becomes one more straight cubic, so the
    chain runs from the tail's border to the head's."""
    start = tip = None
    points = []
    for item in pos.split():
        parts = item.split(",")
        if parts[0] in ("e", "s"):
            point = (float(parts[1]), top - float(parts[2]))
            start, tip = (point, tip) if parts[0] == "s" else (start, point)
        else:
            points.append((float(parts[0]), top - float(parts[1])))
    if len(points) < 4 or (len(points) - 1) % 3:
        raise ValueError(f"dot gave an edge spline of {len(points)} points")
    if start is not None:
        points[:0] = _straight(start, points[0])[:-1]
    if tip is not None:
        points += _straight(points[-1], tip)[1:]
    if not all(math.isfinite(v) for point in points for v in point):
        raise ValueError("dot gave an edge spline that is not finite")
    return tuple(points)


def _straight(a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]]:
    return [a, (a[0] + (b[0] - a[0]) / 3, a[1] + (b[1] - a[1]) / 3),
            (a[0] + (b[0] - a[0]) * 2 / 3, a[1] + (b[1] - a[1]) * 2 / 3), b]


def _routes(data: dict, graph: LayoutGraph, top: float) -> dict[RouteKey, Spline]:
    routes = {}
    for item in data.get("edges", []):
        name = item.get("id", "")
        if not (name.startswith("e") and name[1:].isdigit() and "pos" in item):
            continue
        edge = graph.edges[int(name[1:])]
        routes[(graph.ids[edge.source], edge.source_port, graph.ids[edge.target],
                edge.target_port)] = _spline(item["pos"], top)
    return routes


def _parse(output: bytes, graph: LayoutGraph) -> DotLayout:
    """Top-left corners from dot's json0 output (origin bottom-left, centres, points), and
    the edges' splines."""
    data = json.loads(output)
    top = float(data["bb"].split(",")[3])
    centres: dict[int, tuple[float, float]] = {}
    for item in data.get("objects", []):
        name = item.get("name", "")
        if name.startswith("n") and name[1:].isdigit() and "pos" in item:
            x, y = (float(value) for value in item["pos"].split(","))
            centres[int(name[1:])] = (x, top - y)
    if len(centres) != len(graph) or set(centres) != set(range(len(graph))):
        raise ValueError(f"dot placed {len(centres)} of {len(graph)} nodes")
    boxes = []
    for i, (width, height) in enumerate(zip(graph.widths, graph.heights)):
        x, y = centres[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"dot placed node {graph.ids[i]!r} at ({x}, {y})")
        boxes.append((x - width / 2, y - height / 2))
    return DotLayout(boxes, _routes(data, graph, top))


def dot_layout(graph: LayoutGraph, rank_gap: float, node_gap: float,
               flow: str = "down") -> DotLayout | None:
    """Top-left corners and edge splines from dot, or None (with the reason logged) if dot
    could not do it."""
    path = find_dot()
    if path is None or not _runs(path):
        log.debug("dot is not available; using the built-in layout")
        return None
    source = dot_source(graph, rank_gap, node_gap, flow)
    try:
        done = subprocess.run([path, "-Tjson0"], input=source.encode(), capture_output=True,
                              timeout=DOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.warning("dot took over %g s on %d nodes; using the built-in layout",
                    DOT_TIMEOUT_S, len(graph))
        return None
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("dot could not be run (%s); using the built-in layout", error)
        return None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[:500]
        log.warning("dot failed (exit %d: %s); using the built-in layout", done.returncode,
                    message)
        return None
    try:
        return _parse(done.stdout, graph)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        log.warning("dot's output could not be read (%s); using the built-in layout", error)
        return None
