"""Shape inference: a full pass, and the incremental update after one edit.

Networks of 100, 1,000 and 10,000 nodes, two shapes: a plain chain of Conv1d/BatchNorm1d/ReLU,
and a residual DAG where every few nodes a branch rejoins the trunk through op.add. Two edits in
the middle of each network:

- local: a conv's kernel_size 3 <-> 5 with padding 1 <-> 2, so its output shape stays the same
  and the update should stop at that node;
- tail: a trunk conv's stride 1 <-> 2, which changes every shape below it, so the whole tail must
  be re-inferred.

Times are the best of several runs. The baseline, measured in the same run, is
networkx.topological_sort over the same graph: the floor any full pass must pay. Targets at
1,000 nodes: full < 20 ms, local edit < 2 ms.

    python bench/bench_inference.py [--json PATH] [--quick]
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import bench_parser, best_of, write_figures  # noqa: E402
from graph_schema.catalog import get_spec  # noqa: E402
from graph_schema.document import Edge, Network, Node, Project  # noqa: E402
from graph_schema.inference import Inference  # noqa: E402

SIZES = (100, 1_000, 10_000)
# (full passes, incremental edits) per size: more repeats where a run is short.
REPEATS = {100: (30, 400), 1_000: (10, 200), 10_000: (3, 40)}
TARGET_NODES, TARGET_FULL_MS, TARGET_LOCAL_MS = 1_000, 20.0, 2.0
CONV = {"out_channels": 16, "kernel_size": 3, "padding": 1}


class Builder:
    """Appends nodes and edges; ids follow document order."""

    def __init__(self):
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []

    def add(self, type_name: str, inputs: tuple[str, ...] = (), **params) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(Node(id=node_id, type=type_name, name=node_id, params=params))
        for port, source in enumerate(inputs):
            self.edges.append(Edge(source=source, target=node_id, target_port=port))
        return node_id

    def project(self, name: str) -> Project:
        return Project(name=name, networks=[Network(name=name, nodes=self.nodes,
                                                    edges=self.edges)])


def chain(size: int) -> tuple[Project, list[str], list[str]]:
    """Input -> [Conv1d, BatchNorm1d, ReLU] * k -> Output, ``size`` nodes in all."""
    b = Builder()
    last = b.add("io.Input", shape=["N", 16, 64])
    convs = []
    kinds = (("nn.Conv1d", CONV), ("nn.BatchNorm1d", {}), ("nn.ReLU", {}))
    for i in range(size - 2):
        type_name, params = kinds[i % 3]
        last = b.add(type_name, (last,), **params)
        if type_name == "nn.Conv1d":
            convs.append(last)
    b.add("io.Output", (last,))
    return b.project("chain"), convs, convs


def residual(size: int) -> tuple[Project, list[str], list[str]]:
    """Input -> units of [trunk conv, bn, relu, branch conv, bn, relu, conv, bn, add, relu].

    The add joins the branch with the trunk (the relu before the branch); a trunk conv's stride
    changes the length for both sides, so the adds stay consistent after a tail edit.
    """
    b = Builder()
    last = b.add("io.Input", shape=["N", 16, 64])
    trunk_convs, branch_convs = [], []
    while len(b.nodes) + 10 <= size - 1:
        trunk_convs.append(b.add("nn.Conv1d", (last,), **CONV))
        skip = b.add("nn.ReLU", (b.add("nn.BatchNorm1d", (trunk_convs[-1],)),))
        branch_convs.append(b.add("nn.Conv1d", (skip,), **CONV))
        x = b.add("nn.ReLU", (b.add("nn.BatchNorm1d", (branch_convs[-1],)),))
        x = b.add("nn.BatchNorm1d", (b.add("nn.Conv1d", (x,), **CONV),))
        last = b.add("nn.ReLU", (b.add("op.add", (x, skip)),))
    while len(b.nodes) < size - 1:
        last = b.add("nn.ReLU", (last,))
    b.add("io.Output", (last,))
    return b.project("residual"), branch_convs, trunk_convs


def middle(ids: list[str]) -> str:
    return ids[len(ids) // 2]



def time_edit(engine: Inference, node: Node, settings: tuple[dict, dict],
              repeats: int) -> tuple[float, int]:
    """Best time of ``update`` after toggling ``node``'s params; also the nodes it changed."""
    best, changed = float("inf"), 0
    gc.collect()
    for i in range(repeats):
        node.params.update(settings[(i + 1) % 2])
        gc.disable()
        try:
            start = time.perf_counter()
            result = engine.update({node.id})
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
        changed = max(changed, len(result))
    node.params.update(settings[0])
    engine.update({node.id})
    return best, changed


def check_against_full_pass(engine: Inference, project: Project) -> None:
    fresh = Inference(project.networks[0], project)
    for node_id, state in fresh.states.items():
        if engine.states[node_id].outputs != state.outputs:
            raise SystemExit(f"incremental inference disagrees with a full pass at {node_id}: "
                             f"{engine.states[node_id].outputs} != {state.outputs}")


def measure(kind: str, build, size: int) -> dict | None:
    project, local_convs, tail_convs = build(size)
    network = project.networks[0]
    full_repeats, edit_repeats = REPEATS[size]
    engine = Inference(network, project)
    errors = [d for d in engine.diagnostics() if d.is_error]
    if errors:
        print(f"{kind:<9} {size:>6}  skipped: {errors[0].format('bench')}")
        return None
    graph = network.graph()
    topo = best_of(lambda: list(nx.topological_sort(graph)), full_repeats)
    full = best_of(lambda: Inference(network, project), full_repeats)
    nodes = network.node_map()
    local, local_changed = time_edit(
        engine, nodes[middle(local_convs)],
        ({"kernel_size": 3, "padding": 1}, {"kernel_size": 5, "padding": 2}), edit_repeats)
    tail, tail_changed = time_edit(engine, nodes[middle(tail_convs)],
                                   ({"stride": 1}, {"stride": 2}), max(3, edit_repeats // 10))
    check_against_full_pass(engine, project)
    row = {"network": kind, "nodes": len(network.nodes), "topo_sort_ms": topo * 1e3,
           "full_ms": full * 1e3, "local_edit_ms": local * 1e3,
           "local_edit_nodes_changed": local_changed, "tail_edit_ms": tail * 1e3,
           "tail_edit_nodes_changed": tail_changed}
    print(f"{kind:<9} {row['nodes']:>6} {row['topo_sort_ms']:>9.3f} {row['full_ms']:>9.2f} "
          f"{full / topo:>8.0f}x {row['local_edit_ms']:>9.3f} {local_changed:>6} "
          f"{local / full:>9.4f} {row['tail_edit_ms']:>9.2f} {tail_changed:>6} "
          f"{tail / full:>8.2f}")
    return row


def report_targets(rows: list[dict]) -> dict:
    verdicts = {}
    print(f"\ntargets at {TARGET_NODES:,} nodes:")
    for row in rows:
        if row["nodes"] != TARGET_NODES:
            continue
        for key, label, limit in (("full_ms", "full pass", TARGET_FULL_MS),
                                  ("local_edit_ms", "local edit", TARGET_LOCAL_MS)):
            verdict = "PASS" if row[key] < limit else "MISS"
            verdicts[f"{row['network']}.{key}"] = verdict
            print(f"  {row['network']:<9} {label:<11} {row[key]:8.3f} ms  "
                  f"(target < {limit:g} ms)  {verdict}")
    return verdicts


def main() -> int:
    parser = bench_parser(__doc__.splitlines()[0], "only 100 and 1,000 nodes")
    args = parser.parse_args()
    missing = [t for t in ("nn.Conv1d", "nn.BatchNorm1d", "nn.ReLU", "op.add")
               if get_spec(t) is None]
    if missing:
        print(f"note: the catalog has no {', '.join(missing)} yet; networks using them are "
              f"skipped")
    print("shape inference, best of several runs; topo = networkx.topological_sort on the same "
          "graph (baseline)\n")
    print(f"{'network':<9} {'nodes':>6} {'topo ms':>9} {'full ms':>9} {'full/topo':>9} "
          f"{'local ms':>9} {'nodes':>6} {'local/full':>9} {'tail ms':>9} {'nodes':>6} "
          f"{'tail/full':>8}")
    rows = []
    for size in SIZES[:2] if args.quick else SIZES:
        for kind, build in (("chain", chain), ("residual", residual)):
            row = measure(kind, build, size)
            if row is not None:
                rows.append(row)
    print("\nnodes: how many nodes an edit changed (local should be 1; tail about half).")
    verdicts = report_targets(rows)
    write_figures(args.json, rows, verdicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
