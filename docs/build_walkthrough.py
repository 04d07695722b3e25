"""Build docs/compare.md: three of the gallery's 32x32 networks trained under one setup, then
`torchcanvas compare` on their runs, with its table and plot.

    .venv/bin/python docs/build_walkthrough.py [--out docs] [--runs runs/walkthrough]
                                              [--epochs 4] [--batches 24] [--reuse]

Every command the page shows is run here, through the real command line, and its output is what
the page prints. The runs go under --runs (not committed: `runs/` is ignored); --reuse keeps
runs that already finished, so that only the page is rewritten.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCHCANVAS = [sys.executable, "-m", "builder"]
# (project, network): three families of very different size and shape, all with 32x32 inputs.
MODELS = [("mobilenet_v2", "mobilenet_v2_cifar"), ("vgg16", "vgg16_cifar"),
          ("resnet34", "resnet34_cifar")]
DATA = "digits"  # scikit-learn's 1,797 8x8 digits, upscaled to 3x32x32 by the runner
# Small batches: as many steps as a CPU affords. Batch norm's running statistics start at
# (0, 1) and forget them by 0.9 a step: after 30 steps they are still 4% the initial 1, which
# is more than these activations' variance, and evaluation (which uses them) fails.
BATCH = 16
UNIFORM_LOSS = math.log(10)  # cross-entropy of a uniform guess over the ten digits


def settings(epochs: int, batches: int) -> list[str]:
    """What every run shares: the data, split, seed, optimiser, schedule and budget."""
    return ["--data", DATA, "--max-epochs", str(epochs), "--limit-train-batches", str(batches),
            "--batch-size", str(BATCH),
            "--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.01",
            "--scheduler", "cosine", "--seed", "0"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "walkthrough")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches", type=int, default=24, help="training batches an epoch")
    parser.add_argument("--reuse", action="store_true", help="keep runs that already finished")
    args = parser.parse_args(argv)
    commands, seconds = [], {}
    for project, network in MODELS:
        run_dir = args.runs / network
        command = ["train", f"examples/{project}.json", "--network", network,
                   *settings(args.epochs, args.batches), "--out", display(run_dir)]
        commands.append(command)
        if args.reuse and (run_dir / "summary.json").is_file():
            continue
        if run_dir.exists():
            raise SystemExit(f"{run_dir} exists (a run is never overwritten): remove it, or "
                             "pass --reuse to keep it")
        started = time.perf_counter()
        run(command)
        seconds[network] = time.perf_counter() - started
    plot = args.out / "compare.png"
    compare = ["compare", *(display(args.runs / net) for _, net in MODELS), "--plot",
               display(plot), "--force"]
    table = run(compare)
    write_page(args.out / "compare.md", commands, compare, table, args)
    for network, took in seconds.items():
        print(f"{network}: trained in {took:.0f} s")
    print(f"wrote {args.out / 'compare.md'} and {plot}")
    return 0


def display(path: Path) -> str:
    """A path as the page shows it: relative to the repository when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def run(command: list[str]) -> str:
    """Run one torchcanvas command in the repository root; its stdout, or exit with its error."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    print("$ torchcanvas " + shlex.join(command), flush=True)
    done = subprocess.run([*TORCHCANVAS, *command], cwd=ROOT, env=env, text=True,
                          capture_output=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"torchcanvas {command[0]} failed with exit code {done.returncode}")
    return done.stdout


def write_page(path: Path, commands: list[list[str]], compare: list[str], table: str,
               args: argparse.Namespace) -> None:
    summaries = {net: json.loads((args.runs / net / "summary.json").read_text())
                 for _, net in MODELS}
    lines = [
        "# Comparing models under one training setup",
        "",
        "_Built by `make docs` (`docs/build_walkthrough.py`); every command below was run to make",
        "this page, and the outputs are theirs._",
        "",
        "A fair comparison changes the model and nothing else: the same data and split, seed,",
        "optimiser, learning rate, schedule, batch size and number of epochs. Here three of the",
        "[gallery](gallery.md)'s 32x32 networks learn scikit-learn's bundled digits (1,797 8x8",
        "images, which the runner upscales to the networks' 3x32x32 input), on a CPU, for",
        f"{args.epochs} epochs of {args.batches} batches of {BATCH} (a budget a laptop spends in",
        "minutes).",
        "",
        "## 1. Train each network with the same settings",
        "",
        "```sh",
        *(f"torchcanvas {shlex.join(c)}" for c in commands),
        "```",
        "",
        "Each run folder keeps its resolved settings (`config.json`), the trained source",
        "(`model.py`), its metrics and checkpoints. The test split's scores, from `summary.json`:",
        "",
        "| network | test loss | test accuracy | epochs |",
        "|---|---|---|---|",
        *(f"| {net} | {s.get('test_loss', float('nan')):.4f} | {s.get('test_acc', 0):.3f} | "
          f"{s['epochs']} |" for net, s in summaries.items()),
        "",
        "## 2. Compare the runs",
        "",
        "```sh",
        f"torchcanvas {shlex.join(compare)}",
        "```",
        "",
        "```",
        table.rstrip(),
        "```",
        "",
        f"(Times and samples/s are those of the machine that built this page: {os.cpu_count()} "
        "CPU cores,",
        "shared with other work while it ran.)",
        "",
        *same_setup_note(table),
        "",
        "![validation curves of the three runs](compare.png)",
        "",
        *reading(args.runs),
        "So small a budget ranks the three on this small set; it does not judge them on",
        "CIFAR-10. For that, run the same commands with `--data folder:PATH` (one subfolder per",
        "class) or a `python:` dataset, without `--limit-train-batches`, for more epochs, with",
        "`--accelerator gpu`.",
        "",
    ]
    atomic_write(path, "\n".join(lines))


def reading(runs: Path) -> list[str]:
    """What the runs say, from their metrics: which learned, and what to do about one that
    did not (its training loss stayed at that of a uniform guess over the classes)."""
    lines = ["## 3. Reading the result", ""]
    for project, network in MODELS:
        with open(runs / network / "metrics.csv", newline="") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("train_loss")]
        first, last = float(rows[0]["train_loss"]), float(rows[-1]["train_loss"])
        accuracy = float(rows[-1]["val_acc"])
        if abs(last - UNIFORM_LOSS) < 0.02 * UNIFORM_LOSS:
            lines += [f"- `{network}` did not learn: its training loss stayed at {last:.2f}, "
                      f"ln 10, the loss of a uniform guess over ten classes. A deep plain",
                      "  stack (no batch norm, no shortcuts) is the network that most needs",
                      "  its learning rate and initialisation chosen: `torchcanvas sanity",
                      f"  examples/{project}.json --network {network} --data digits` says",
                      "  which rung fails, and `torchcanvas lr-find` suggests a rate.",
                      "  (The VGG authors trained their deeper configurations starting from",
                      "  the weights of shallower ones.)"]
        else:
            lines.append(f"- `{network}`: training loss {first:.2f} to {last:.2f}, validation "
                         f"accuracy {accuracy:.1%} after the last epoch.")
    return [*lines, ""]


def same_setup_note(table: str) -> list[str]:
    if "not trained under the same setup" in table:
        return ["`compare` names the settings in which the runs differ (above): the table",
                "compares those settings as much as the models."]
    return ["`compare` would name any setting in which the runs differ (data, split, seed,",
            "optimiser, schedule, precision, world size...). It names none here, which is what",
            "makes the table a comparison of the models."]


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as handle:
        handle.write(text)
    os.replace(handle.name, path)


if __name__ == "__main__":
    sys.exit(main())
