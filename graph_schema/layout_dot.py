"""Layout by Graphviz's ``dot``, guarded: any failure returns None and the caller falls back.

The graph goes to ``dot -Tjson0`` through a subprocess with a time limit (the graphviz package
can build the source but cannot bound the run, and dot can take minutes on a huge graph).
Scene units are points: 72 to the inch, which is what dot measures sizes in. Nodes are named
by number, so no id from a file ever needs quoting in the dot source.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
import subprocess

import graphviz

from graph_schema.layout_graph import LayoutGraph

log = logging.getLogger(__name__)

DOT_EXECUTABLE = "dot"
DOT_TIMEOUT_S = 10.0
# Above these, dot takes seconds to minutes; the built-in layout takes milliseconds.
DOT_MAX_NODES = 2_000
DOT_MAX_EDGES = 4_000
POINTS_PER_INCH = 72.0

Box = tuple[float, float]  # top-left corner


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


def dot_source(graph: LayoutGraph, rank_gap: float, node_gap: float) -> str:
    digraph = graphviz.Digraph()
    digraph.attr("graph", rankdir="TB", nodesep=_inches(node_gap), ranksep=_inches(rank_gap))
    digraph.attr("node", shape="box", fixedsize="true", label="", margin="0")
    orderings = _orderings(graph)
    for i, (width, height) in enumerate(zip(graph.widths, graph.heights)):
        extra = {"ordering": orderings[i]} if i in orderings else {}
        digraph.node(f"n{i}", width=_inches(width), height=_inches(height), **extra)
    # Listed by input port, then output port: the order the ordering attributes keep.
    for edge in sorted(graph.edges, key=lambda e: (e.target_port, e.source_port, e.target,
                                                   e.source)):
        digraph.edge(f"n{edge.source}", f"n{edge.target}")
    return digraph.source


def _parse(output: bytes, graph: LayoutGraph) -> list[Box]:
    """Top-left corners from dot's json0 output (origin bottom-left, centres, points)."""
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
    return boxes


def dot_layout(graph: LayoutGraph, rank_gap: float, node_gap: float) -> list[Box] | None:
    """Top-left corners from dot, or None (with the reason logged) if dot could not do it."""
    path = find_dot()
    if path is None or not _runs(path):
        log.debug("dot is not available; using the built-in layout")
        return None
    try:
        done = subprocess.run([path, "-Tjson0"], input=dot_source(graph, rank_gap, node_gap)
                              .encode(), capture_output=True, timeout=DOT_TIMEOUT_S)
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
