"""Edge routing: the time to route every edge of a laid-out network, against laying it out.

Residual networks of 100, 500 and 2,000 nodes (bench_inference's: every ten nodes a branch
rejoins the trunk through an add), laid out by the built-in engine, boxes 160 x 56, ports
spread along the top and bottom as the canvas spreads them, a label on every edge. Three
times, each the best of several runs in the same process: the built-in layout
(``layout_network(engine="builtin")``, the baseline), a full ``route_edges``, and a
``reroute`` after one node in the middle moved sideways (what a drag costs per step). Target:
a full routing no slower than the layout (ratio <= 1) at 500 nodes and up.

Every routing is also checked (no route through a box, no label on a box or a label), so a
fast but wrong router cannot pass.

    python bench/bench_routing.py [--json PATH] [--quick]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_inference import residual  # noqa: E402
from bench.timing import bench_parser, best_of, write_figures  # noqa: E402
from graph_schema.layout import layout_network  # noqa: E402
from graph_schema.route_check import routing_problems  # noqa: E402
from graph_schema.routing import reroute, route_edges  # noqa: E402
from tests.routing_support import SIZE, labels_for, laid_out_boxes, requests  # noqa: E402

SIZES = (100, 500, 2_000)
REPEATS = {100: 20, 500: 8, 2_000: 3}
TARGET_NODES = 500


def moved(boxes: dict, node: str, dx: float) -> dict:
    x, y, w, h = boxes[node]
    return {**boxes, node: (x + dx, y, w, h)}


def measure(size: int) -> dict:
    network = residual(size)[0].networks[0]
    repeats = REPEATS[size]
    layout = best_of(lambda: layout_network(network, engine="builtin"), repeats)
    boxes = laid_out_boxes(network, "builtin")
    edges = requests(network, boxes)
    labels = labels_for(edges)
    full = best_of(lambda: route_edges(boxes, edges, label_sizes=labels), repeats)
    routing = route_edges(boxes, edges, label_sizes=labels)
    node = network.nodes[len(network.nodes) // 2].id
    after = moved(boxes, node, SIZE[0] / 2)
    after_edges = requests(network, after)
    step = best_of(lambda: reroute(routing, after, after_edges, {node}), repeats)
    problems = routing_problems(routing) + routing_problems(
        reroute(routing, after, after_edges, {node}))
    if problems:
        raise SystemExit(f"{size} nodes: {problems[0]}")
    row = {"nodes": size, "edges": len(edges), "layout_ms": layout * 1e3,
           "route_ms": full * 1e3, "reroute_ms": step * 1e3, "ratio": full / layout}
    print(f"{size:>6} {len(edges):>6} {row['layout_ms']:>10.2f} {row['route_ms']:>9.2f} "
          f"{row['reroute_ms']:>11.2f} {row['ratio']:>13.2f}")
    return row


def main() -> int:
    parser = bench_parser(__doc__.splitlines()[0], "only 100 and 500 nodes")
    args = parser.parse_args()
    print("residual networks; best of several runs; ratio = full routing / built-in layout\n")
    print(f"{'nodes':>6} {'edges':>6} {'layout ms':>10} {'route ms':>9} {'reroute ms':>11} "
          f"{'route/layout':>13}")
    rows = [measure(size) for size in (SIZES[:2] if args.quick else SIZES)]
    verdicts = {}
    print("\ntarget: routing no slower than the built-in layout (ratio <= 1)")
    for row in rows:
        if row["nodes"] >= TARGET_NODES:
            verdict = "PASS" if row["ratio"] <= 1.0 else "MISS"
            verdicts[f"residual_{row['nodes']}.ratio"] = verdict
            print(f"  {row['nodes']:>6} nodes  {row['ratio']:5.2f}  {verdict}")
    write_figures(args.json, rows, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
