"""Auto-layout: the built-in layered layout against Graphviz's dot on the same graphs.

Networks of 100, 1,000 and 10,000 nodes, three shapes: a plain chain; a residual DAG where
every few nodes a branch rejoins the trunk through an add (the shortcut skips five ranks); and
a wide fan-out (one input feeding every other node). The built-in time is the whole
``layout_network(engine="builtin")`` call, best of several runs. The baseline, measured in the
same run, is dot itself: one run through the same guarded subprocess layout_network uses, with
a longer time limit (--dot-limit); a run past it shows as "> limit". layout_network itself
never hands dot more than layout_dot.DOT_MAX_NODES nodes. Target: 1,000 nodes in under 50 ms
with the built-in layout.

Each layout is also checked (every node placed, no two boxes overlapping, every edge pointing
down), so a fast but wrong layout cannot pass.

    python bench/bench_layout.py [--json PATH] [--quick] [--dot-limit SECONDS]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import bench_parser, best_of, write_figures  # noqa: E402
from graph_schema import layout_dot  # noqa: E402
from graph_schema.document import Edge, Network, Node, Position  # noqa: E402
from graph_schema.layout import graphviz_available, layout_network  # noqa: E402
from graph_schema.layout_graph import build_layout_graph  # noqa: E402

SIZES = (100, 1_000, 10_000)
REPEATS = {100: 30, 1_000: 10, 10_000: 3}
TARGET_NODES, TARGET_MS = 1_000, 50.0
SIZE = (200.0, 72.0)


class Builder:
    """Appends nodes and edges; ids follow document order."""

    def __init__(self):
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []

    def add(self, inputs: tuple[str, ...] = ()) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(Node(id=node_id, type="nn.Identity", name=node_id))
        for port, source in enumerate(inputs):
            self.edges.append(Edge(source=source, target=node_id, target_port=port))
        return node_id

    def network(self, name: str) -> Network:
        return Network(name=name, nodes=self.nodes, edges=self.edges)


def chain(size: int) -> Network:
    b = Builder()
    last = b.add()
    while len(b.nodes) < size:
        last = b.add((last,))
    return b.network("chain")


def residual(size: int) -> Network:
    """Units of [trunk, bn, relu (skip), conv, bn, relu, conv, bn, add(x, skip), relu]."""
    b = Builder()
    last = b.add()
    while len(b.nodes) + 10 <= size - 1:
        skip = b.add((b.add((b.add((last,)),)),))
        x = b.add((b.add((b.add((b.add((b.add((skip,)),)),)),)),))
        last = b.add((b.add((x, skip)),))
    while len(b.nodes) < size:
        last = b.add((last,))
    return b.network("residual")


def fanout(size: int) -> Network:
    b = Builder()
    source = b.add()
    while len(b.nodes) < size:
        b.add((source,))
    return b.network("fanout")


def check(network: Network, positions: dict[str, Position]) -> None:
    """Every node placed, boxes apart (grid buckets: linear), edges downward."""
    if set(positions) != {node.id for node in network.nodes}:
        raise SystemExit(f"{network.name}: not every node was placed")
    cell = max(SIZE)
    buckets: dict[tuple[int, int], list[str]] = {}
    for node_id, p in positions.items():
        for cx in range(int(p.x // cell), int((p.x + SIZE[0]) // cell) + 1):
            for cy in range(int(p.y // cell), int((p.y + SIZE[1]) // cell) + 1):
                buckets.setdefault((cx, cy), []).append(node_id)
    for ids in buckets.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pa, pb = positions[a], positions[b]
                if (pa.x < pb.x + SIZE[0] - 1e-6 and pb.x < pa.x + SIZE[0] - 1e-6
                        and pa.y < pb.y + SIZE[1] - 1e-6 and pb.y < pa.y + SIZE[1] - 1e-6):
                    raise SystemExit(f"{network.name}: boxes {a} and {b} overlap")
    for edge in network.edges:
        if positions[edge.source].y + SIZE[1] > positions[edge.target].y + 1e-6:
            raise SystemExit(f"{network.name}: edge {edge.source} -> {edge.target} points up")



def time_dot(network: Network, limit: float) -> float | None:
    """Seconds for one dot layout (the same guarded call layout_network makes), or None."""
    graph = build_layout_graph(network, None, SIZE)
    layout_dot.DOT_TIMEOUT_S = limit
    start = time.perf_counter()
    boxes = layout_dot.dot_layout(graph, 56.0, 40.0)
    return None if boxes is None else time.perf_counter() - start


def measure(kind: str, build, size: int, use_dot: bool, dot_limit: float) -> dict:
    network = build(size)
    result = layout_network(network, engine="builtin")
    check(network, result.positions)
    builtin = best_of(lambda: layout_network(network, engine="builtin"), REPEATS[size])
    dot = time_dot(network, dot_limit) if use_dot else None
    row = {"network": kind, "nodes": size, "edges": len(network.edges),
           "builtin_ms": builtin * 1e3, "dot_ms": None if dot is None else dot * 1e3}
    dot_text = f"{dot * 1e3:>10.1f}" if dot is not None else f"{'> limit' if use_dot else '-':>10}"
    ratio = f"{builtin / dot:>12.4f}" if dot else f"{'-':>12}"
    print(f"{kind:<9} {size:>6} {row['edges']:>6} {row['builtin_ms']:>11.2f} {dot_text} {ratio}")
    return row


def report_target(rows: list[dict]) -> dict:
    verdicts = {}
    print(f"\ntarget: {TARGET_NODES:,} nodes laid out by the built-in engine in under "
          f"{TARGET_MS:g} ms")
    for row in rows:
        if row["nodes"] == TARGET_NODES:
            verdict = "PASS" if row["builtin_ms"] < TARGET_MS else "MISS"
            verdicts[f"{row['network']}.builtin_ms"] = verdict
            print(f"  {row['network']:<9} {row['builtin_ms']:8.2f} ms  {verdict}")
    return verdicts


def main() -> int:
    parser = bench_parser(__doc__.splitlines()[0], "only 100 and 1,000 nodes")
    parser.add_argument("--dot-limit", type=float, default=60.0, metavar="SECONDS",
                        help="time limit for one dot run (default 60)")
    args = parser.parse_args()
    use_dot = graphviz_available()
    if not use_dot:
        print("note: Graphviz's dot is not installed; only the built-in layout is timed")
    print("layout of a whole network; builtin: best of several runs; dot: one run of the dot "
          "executable (baseline)\n")
    print(f"{'network':<9} {'nodes':>6} {'edges':>6} {'builtin ms':>11} {'dot ms':>10} "
          f"{'builtin/dot':>12}")
    rows = []
    for size in SIZES[:2] if args.quick else SIZES:
        for kind, build in (("chain", chain), ("residual", residual), ("fanout", fanout)):
            rows.append(measure(kind, build, size, use_dot, args.dot_limit))
    verdicts = report_target(rows)
    write_figures(args.json, rows, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
