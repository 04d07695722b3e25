"""Importing a model as a diagram: time against torchview, and a ~10,000-node model.

1. A ResNet-152-sized model (bench/import_models.py; 60M weights, input 1x3x224x224):
   ``codegen.import_model`` against ``torchview.draw_graph`` on the same model in the same
   run. Both are warmed up once, then run alternately; the best of the repeats is compared.
   Target: import / torchview <= 0.5.
2. A 2-layer BERT (Hugging Face ``transformers``, a tiny config built from config, input
   1x8 token ids): the same comparison; its classes are traced by recording one run
   (record_trace.py), torch.fx being unable to. Target: import / torchview <= 0.5.
3. A stack of 2,500 residual blocks (about 10,000 layers and ops): it must import and open.
   Reported: import time, project size, and opening it (parse the file and validate it,
   which infers every shape), against torchview on the same model.

    python bench/bench_import.py [--json PATH] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_models import DeepStack, ResNet152  # noqa: E402
from bench.timing import timed  # noqa: E402
from codegen.importer import import_model_with_report  # noqa: E402
from graph_schema import project_from_json, validate  # noqa: E402
from graph_schema.files import project_to_json  # noqa: E402

TARGET_RATIO = 0.5



def torchview_graph(model, x):
    import torchview

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torchview.draw_graph(model, input_data=x, device="cpu")


def _against_torchview(name: str, model, x, repeats: int) -> dict:
    """Import and torchview on one model, warmed up once, then alternately; best of each."""
    first_import = timed(lambda: import_model_with_report(model, x))
    first_view = timed(lambda: torchview_graph(model, x))
    imports, views = [], []
    for _ in range(repeats):
        imports.append(timed(lambda: import_model_with_report(model, x)))
        views.append(timed(lambda: torchview_graph(model, x)))
    result = import_model_with_report(model, x).project
    nodes = sum(len(g.nodes) for g in [*result.networks, *result.blocks])
    return {"model": name, "weights": sum(p.numel() for p in model.parameters()),
            "project_nodes": nodes, "blocks": len(result.blocks),
            "import_s": min(imports), "torchview_s": min(views),
            "first_import_s": first_import, "first_torchview_s": first_view,
            "ratio": min(imports) / min(views)}


def bench_resnet(repeats: int) -> dict:
    torch.manual_seed(0)
    return _against_torchview("ResNet-152", ResNet152().eval(), torch.randn(1, 3, 224, 224),
                              repeats)


def bench_bert(repeats: int) -> dict | None:
    try:
        import transformers
    except ImportError:
        return None
    torch.manual_seed(0)
    transformers.logging.set_verbosity_error()
    config = transformers.BertConfig(hidden_size=64, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=128,
                                     vocab_size=100, max_position_embeddings=64)
    model = transformers.BertModel(config).eval()
    return _against_torchview("BERT (2 layers)", model, torch.randint(0, 100, (1, 8)),
                              repeats)


def _print_comparison(row: dict) -> None:
    verdict = "PASS" if row["ratio"] <= TARGET_RATIO else "MISS"
    print(f"{row['model']} ({row['weights'] / 1e6:.1f}M weights -> {row['blocks']} blocks, "
          f"{row['project_nodes']} nodes)")
    print(f"  import      {row['import_s'] * 1000:8.1f} ms   (first run "
          f"{row['first_import_s'] * 1000:.0f} ms)")
    print(f"  torchview   {row['torchview_s'] * 1000:8.1f} ms   (first run "
          f"{row['first_torchview_s'] * 1000:.0f} ms)")
    print(f"  ratio       {row['ratio']:8.2f}      target <= {TARGET_RATIO}  {verdict}")


def bench_deep(with_torchview: bool) -> dict:
    torch.manual_seed(0)
    model = DeepStack().eval()
    x = torch.randn(2, 8)
    box = {}
    seconds = timed(lambda: box.setdefault("r", import_model_with_report(model, x)))
    project = box["r"].project
    text = project_to_json(project)
    opened = {}
    open_s = timed(lambda: opened.setdefault("d", validate(project_from_json(text))))
    errors = [d for d in opened["d"] if d.is_error]
    layers = sum(1 for _ in model.modules()) - 2  # less the model and its module list
    row = {"model": "DeepStack", "modules": layers, "ops": 4 * len(model.blocks) + 1,
           "import_s": seconds, "open_s": open_s, "project_mb": len(text) / 2**20,
           "errors": len(errors)}
    if with_torchview:
        row["torchview_s"] = timed(lambda: torchview_graph(model, x))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no torchview "
                                                              "on the deep stack")
    args = parser.parse_args()
    resnet = bench_resnet(2 if args.quick else 4)
    _print_comparison(resnet)
    bert = bench_bert(3 if args.quick else 6)
    if bert is None:
        print("BERT: transformers is not installed (pip install -e '.[test]')")
    else:
        _print_comparison(bert)
    deep = bench_deep(not args.quick)
    opened = "PASS" if deep["errors"] == 0 else "MISS"
    print(f"DeepStack ({deep['modules']:,} modules, {deep['ops']:,} layers and ops)")
    print(f"  import      {deep['import_s']:8.2f} s")
    print(f"  open        {deep['open_s']:8.2f} s    (parse + validate, "
          f"{deep['project_mb']:.1f} MiB file)  {opened}")
    if "torchview_s" in deep:
        print(f"  torchview   {deep['torchview_s']:8.2f} s    ratio "
              f"{deep['import_s'] / deep['torchview_s']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"resnet152": resnet, "bert": bert, "deep": deep},
                                              indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
