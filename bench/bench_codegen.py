"""Generated code vs hand-written code: forward+backward time, and generation time.

Prints ratios measured in one run (generated / hand-written, interleaved so machine noise
hits both alike), next to the targets: <= 1.01 for the forward+backward ratio, and under
0.5 s to generate a 1,000-node network (shown against validation of the same network as the
same-run baseline).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.handwritten import DigitsCNN, ResNet18  # noqa: E402
from bench.timing import best_of  # noqa: E402
from codegen import generate_source  # noqa: E402
from graph_schema import load_project, validate  # noqa: E402
from graph_schema.document import Edge, Network, Node, Project  # noqa: E402


def load_generated(project: Project, class_name: str) -> torch.nn.Module:
    source = generate_source(project, class_name=class_name)
    path = Path(tempfile.mkdtemp()) / "generated_model.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("generated_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, class_name)()


def step_time(model: torch.nn.Module, batch: torch.Tensor) -> float:
    start = time.perf_counter()
    model(batch).sum().backward()
    return time.perf_counter() - start


def compare(name: str, generated, handwritten, batch, rounds: int) -> dict:
    for model in (generated, handwritten):
        model.train()
        for _ in range(3):  # warm-up: allocator, kernels, autograd graph caches
            step_time(model, batch)
    gen_times, hand_times = [], []
    for _ in range(rounds):  # interleaved, so drift affects both the same way
        gen_times.append(step_time(generated, batch))
        hand_times.append(step_time(handwritten, batch))
    gen, hand = statistics.median(gen_times), statistics.median(hand_times)
    ratio = gen / hand
    verdict = "PASS" if ratio <= 1.01 else ("NOISE?" if ratio <= 1.05 else "MISS")
    print(f"{name:<12} generated {gen * 1e3:8.2f} ms   hand-written {hand * 1e3:8.2f} ms   "
          f"ratio {ratio:.3f}  (target <= 1.01: {verdict})")
    return {"name": name, "generated_ms": gen * 1e3, "handwritten_ms": hand * 1e3,
            "ratio": ratio}


def chain_project(size: int) -> Project:
    nodes = [Node(id="in", type="io.Input", name="x", params={"shape": ["N", 16, 64]})]
    kinds = [("nn.Conv1d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
             ("nn.BatchNorm1d", {}), ("nn.ReLU", {})]
    for i in range(size - 2):
        type_name, params = kinds[i % 3]
        nodes.append(Node(id=f"n{i}", type=type_name, name=f"layer{i}", params=params))
    nodes.append(Node(id="out", type="io.Output", name="y"))
    edges = [Edge(source=a.id, target=b.id) for a, b in zip(nodes, nodes[1:])]
    return Project(name="chain", networks=[Network(name="chain", nodes=nodes, edges=edges)])



def generation_time(size: int) -> dict:
    project = chain_project(size)
    generate = best_of(lambda: generate_source(project), 3)
    baseline = best_of(lambda: validate(project), 3)
    verdict = "PASS" if generate < 0.5 else "MISS"
    print(f"generate {size:>5} nodes: {generate * 1e3:8.1f} ms   validate (baseline) "
          f"{baseline * 1e3:8.1f} ms   ratio {generate / baseline:.2f}   "
          f"(target < 500 ms: {verdict})")
    return {"nodes": size, "generate_ms": generate * 1e3, "validate_ms": baseline * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    torch.manual_seed(0)
    print("forward+backward, median of interleaved rounds, CPU, "
          f"{torch.get_num_threads()} threads")
    results = {"runtime": [], "generation": []}
    digits = load_generated(load_project(ROOT / "examples/digits_cnn.json"), "DigitsCnn")
    results["runtime"].append(compare("digits CNN", digits, DigitsCNN(),
                                      torch.randn(256, 1, 8, 8), args.rounds * 4))
    resnet = load_generated(load_project(ROOT / "examples/resnet18.json"), "ResNet18")
    results["runtime"].append(compare("ResNet-18", resnet, ResNet18(),
                                      torch.randn(4, 3, 112, 112), args.rounds))
    for size in (100, 1000):
        results["generation"].append(generation_time(size))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
