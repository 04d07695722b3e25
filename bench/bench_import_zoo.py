"""Import on a public model zoo: how many models written by other people round-trip exactly.

The zoo is ``pytorchcv`` (imgclsmob: hundreds of pure-PyTorch image models, built from code,
no weights downloaded). It is not a dependency: install it without its own dependencies,
which would replace torch (``pip install --no-deps pytorchcv``). One model family of it
imports ``torchvision.ops``, for which a stand-in is put in place (no CPU build of
torchvision installs here); that family is left out.

Each sampled model goes through the strict acid test (tests/import_models/acid.py): import,
generate, load the original state_dict with strict=True, same outputs in eval mode at two
batch sizes and in train mode. Reported: exact with every class drawn, exact with some kept
as source, failed (with the first line of why, grouped).

    python bench/bench_import_zoo.py [--sample N] [--seed S] [--suffix _cifar10] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import types
import warnings
from collections import Counter
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.import_models.acid import acid  # noqa: E402


def _zoo():
    """pytorchcv's model table, or None where it is not installed."""
    if "torchvision" not in sys.modules:
        vision, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")
        ops.DeformConv2d = type("DeformConv2d", (), {})  # only its deformable-conv family
        vision.ops = ops
        sys.modules.update({"torchvision": vision, "torchvision.ops": ops})
    try:
        from pytorchcv.model_provider import _models
    except ImportError:
        return None
    return _models


def _input_size(name: str) -> tuple[int, ...]:
    if name.endswith(("_cifar10", "_cifar100", "_svhn")):
        return (3, 32, 32)
    return (3, 224, 224)


def _one(models: dict, name: str) -> dict:
    size = _input_size(name)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings(), tempfile.TemporaryDirectory() as directory:
            warnings.simplefilter("ignore")
            verdict = acid(lambda: models[name](pretrained=False),
                           lambda n: (torch.randn(n, *size),), Path(directory))
        outcome = "kept" if verdict.kept else "exact"
        why = ", ".join(verdict.kept)
    except Exception as err:  # noqa: BLE001 - any failure is a result here
        outcome, why = "failed", f"{type(err).__name__}: {str(err).splitlines()[0][:150]}"
    return {"model": name, "outcome": outcome, "why": why,
            "seconds": round(time.perf_counter() - started, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--suffix", default="_cifar10",
                        help="only models whose name ends so ('' for all)")
    parser.add_argument("--json", help="also write every model's result here")
    args = parser.parse_args()
    models = _zoo()
    if models is None:
        print("pytorchcv is not installed: pip install --no-deps pytorchcv")
        return 2
    names = sorted(n for n in models if n.endswith(args.suffix) and "dcn" not in n)
    chosen = random.Random(args.seed).sample(names, min(args.sample, len(names)))
    results = []
    for name in chosen:
        results.append(_one(models, name))
        row = results[-1]
        print(f"{row['outcome']:7s} {row['seconds']:6.1f} s  {name}  {row['why']}", flush=True)
    counts = Counter(r["outcome"] for r in results)
    print(f"\n{len(results)} models of {len(names)}: {counts['exact']} exact with every class "
          f"drawn, {counts['kept']} exact with classes kept as source, {counts['failed']} "
          f"failed ({(counts['exact'] + counts['kept']) / max(len(results), 1):.0%} exact)")
    for why, count in Counter(r["why"] for r in results if r["outcome"] == "failed"
                              ).most_common():
        print(f"  {count:3d}  {why}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
