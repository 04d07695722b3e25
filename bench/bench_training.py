"""The bundled runner's training speed against a plain hand-written PyTorch loop.

Prints, all measured in this run (the machine's noise hits both sides alike):

1. samples/s of builder.training.loop.Trainer against the loop a user writes (DataLoader over a
   TensorDataset with shuffle=True, model.train(), forward, loss, backward, AdamW step,
   zero_grad, loss.item() per step), same model, same data, same batch, repetitions interleaved
   (plain, runner, runner with logs, plain, ...), medians and their ratio. The runner is timed
   with its logs off (a RunLog with enabled=False) and on (a real RunLog and run folder in a temp
   dir: metrics.csv, train.log, TensorBoard, a checkpoint per epoch). Both sides are timed from
   "model and tensors in hand" to "trained": the DataLoader and optimiser (plain) and the
   Trainer (runner) are built inside the timing; neither validates, and closing the log
   (drawing curves.png) is left out. Targets: >= 0.97 on CPU, >= 1.0 on GPU.
2. 2-process CPU scaling: `torchcanvas train --devices 2 --accelerator cpu` against
   `--devices 1`, from the samples_per_s column of each run folder's metrics.csv; efficiency
   = 2-process / (2 x 1-process), one thread per process on both sides (and, for context,
   2 processes against 1 process using all of PyTorch's default threads).
3. On a GPU: the same ratios with the GPU features on (bf16-mixed autocast, channels_last, fused
   AdamW, TF32, the dataset kept on the GPU) against the plain loop in fp32 and with autocast,
   plus a CIFAR-sized ResNet-18 on synthetic 3x32x32 data.

    python bench/bench_training.py [--quick] [--device cpu|cuda] [--compile] [--threads N]
                                   [--rounds N] [--no-scaling] [--json [PATH]]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import training_models  # noqa: E402
from bench.training_models import Workload  # noqa: E402
from builder.training import speed  # noqa: E402
from builder.training.config import TrainConfig  # noqa: E402
from builder.training.distributed import World  # noqa: E402
from builder.training.logs import RunLog  # noqa: E402
from builder.training.loop import Parts, Trainer  # noqa: E402
from builder.training.task import resolve_task  # noqa: E402

LR = 1e-3
CPU_TARGET, GPU_TARGET = 0.97, 1.0
NOISE_MARGIN = 0.03  # a ratio this close under its target may be the machine, not the code
NOISY_SPREAD = 1.5  # max/min of one variant's rounds beyond which the figures are suspect
COLUMNS = ("epoch", "step", "train_loss", "val_loss", "val_acc", "lr", "seconds",
           "samples_per_s")


# --- the two loops -----------------------------------------------------------------------------


def plain_fit(model: nn.Module, work: Workload, device: torch.device, epochs: int,
              autocast_dtype: torch.dtype | None = None) -> None:
    """The loop a user writes (and what tutorials show)."""
    loader = DataLoader(TensorDataset(work.x, work.y), batch_size=work.batch_size,
                        shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _epoch in range(epochs):
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            with (torch.autocast(device.type, dtype=autocast_dtype) if autocast_dtype
                  else contextlib.nullcontext()):
                loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss.item()


def runner_fit(model: nn.Module, work: Workload, device: torch.device, epochs: int,
               precision: str = "32-true", logs: Path | None = None,
               compile_model: bool = False) -> Callable[[], None]:
    """The bundled runner's loop, built as runner.py builds it, without validation (the plain
    loop has none). `logs`: a folder for a real RunLog and run folder; None: logs off.
    Returns what finishes the run untimed (closing the log)."""
    config = TrainConfig(target="bench", data=work.data, max_epochs=epochs,
                         batch_size=work.batch_size, lr=LR, precision=precision,
                         early_stopping_patience=0, compile=compile_model)
    task = resolve_task(None, None, work.dataset)
    if logs is None:
        log = RunLog(Path("unused"), enabled=False, columns=COLUMNS)
    else:  # a plain stream, as when stderr is not a terminal: one line per epoch
        log = RunLog(logs, columns=COLUMNS, stream=io.StringIO(), total_epochs=epochs)
    parts = Parts(model, task, TensorDataset(work.x, work.y), None, logs, log)
    Trainer(config, parts, World(device=device)).fit()
    return log.close  # after the timing: close() draws curves.png, once per run


# --- timing ------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def samples_per_s(run: Callable[[int], object], work: Workload, device: torch.device,
                  epochs: int) -> float:
    _sync(device)
    start = time.perf_counter()
    finish = run(epochs)
    _sync(device)
    elapsed = time.perf_counter() - start
    if finish is not None:
        finish()
    return epochs * len(work.x) / elapsed


def interleaved(variants: dict[str, Callable[[int], object]], work: Workload,
                device: torch.device, rounds: int) -> dict[str, list[float]]:
    """samples/s of each variant, A B C A B C ...; one untimed epoch of each first (allocator,
    kernels, cuDNN autotuning, compilation)."""
    for run in variants.values():
        finish = run(1)
        if finish is not None:
            finish()
    figures = {name: [] for name in variants}
    for _round in range(rounds):
        for name, run in variants.items():
            figures[name].append(samples_per_s(run, work, device, work.epochs))
    return figures


class Backends:
    """The plain loop runs with PyTorch's defaults; the runner with speed.configure_backends
    (TF32, cuDNN autotuning on a GPU), as runner.run calls it. Flags are process-wide, so they
    are set before every timed call, not once."""

    def __init__(self, device: torch.device):
        self.device = device
        self.defaults = (torch.backends.cuda.matmul.allow_tf32,
                         torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark)

    def plain(self, run: Callable[[int], object]) -> Callable[[int], object]:
        def wrapped(epochs: int) -> object:
            (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.benchmark) = self.defaults
            return run(epochs)
        return wrapped

    def runner(self, run: Callable[[int], object]) -> Callable[[int], object]:
        def wrapped(epochs: int) -> object:
            speed.configure_backends(self.device, deterministic=False)
            return run(epochs)
        return wrapped


# --- section 1 and 3: the runner against the plain loop ----------------------------------------


def compare(work: Workload, device: torch.device, rounds: int, gpu: bool,
            compile_model: bool) -> dict:
    backends = Backends(device)
    scratch = Path(tempfile.mkdtemp(prefix="bench-training-runs-"))
    runs = iter(range(10**6))

    def new_model() -> nn.Module:
        model = work.make_model().to(device)
        return torch.compile(model) if compile_model else model

    plain_model, autocast_model = new_model(), new_model()
    # The runner compiles the model itself (--compile); it gets the module uncompiled.
    runner_model, logged_model = work.make_model(), work.make_model()
    precision = "bf16-mixed" if gpu else "32-true"
    variants = {
        "plain": backends.plain(lambda e: plain_fit(plain_model, work, device, e)),
        "runner": backends.runner(lambda e: runner_fit(runner_model, work, device, e,
                                                       precision, None, compile_model)),
        "runner+logs": backends.runner(lambda e: runner_fit(
            logged_model, work, device, e, precision, scratch / f"run{next(runs)}",
            compile_model)),
    }
    if gpu:
        variants["plain+autocast"] = backends.plain(lambda e: plain_fit(
            autocast_model, work, device, e, torch.bfloat16))
    try:
        figures = interleaved(variants, work, device, rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return summarise(work, figures, GPU_TARGET if gpu else CPU_TARGET)


def summarise(work: Workload, figures: dict[str, list[float]], target: float) -> dict:
    medians = {name: statistics.median(values) for name, values in figures.items()}
    plain = medians["plain"]
    ratios = {name: value / plain for name, value in medians.items() if name != "plain"}
    paired = [r / p for r, p in zip(figures["runner"], figures["plain"])]
    verdict = _verdict(ratios["runner"], target)
    print(f"\n{work.name}: {len(work.x)} samples ({work.data}), batch {work.batch_size}, "
          f"{work.epochs} epochs = {work.steps} steps, {len(figures['plain'])} rounds")
    for name, values in figures.items():
        spread = f"{min(values):,.0f}..{max(values):,.0f}"
        ratio = "" if name == "plain" else f"   ratio {ratios[name]:.3f}"
        print(f"  {name:<15} {medians[name]:>10,.0f} samples/s  (min..max {spread}){ratio}")
    print(f"  runner / plain: {ratios['runner']:.3f} (median of per-round ratios "
          f"{statistics.median(paired):.3f}; target >= {target:g}: {verdict})")
    if "plain+autocast" in ratios:
        print(f"  runner / plain+autocast: "
              f"{medians['runner'] / medians['plain+autocast']:.3f}")
    if any(max(values) > NOISY_SPREAD * min(values) for values in figures.values()):
        print(f"  noisy: some rounds differ more than {NOISY_SPREAD:g}x (other work on the "
              f"machine?); rerun on a quiet machine, or with --threads 1 on a small one")
    return {"model": work.name, "data": work.data, "samples": len(work.x),
            "batch_size": work.batch_size, "epochs": work.epochs, "steps": work.steps,
            "samples_per_s": figures, "median_samples_per_s": medians,
            "ratio_to_plain": ratios, "paired_runner_ratio": statistics.median(paired),
            "target": target, "verdict": verdict}


def _verdict(ratio: float, target: float) -> str:
    if ratio >= target:
        return "PASS"
    return "NOISE?" if ratio >= target - NOISE_MARGIN else "MISS"


# --- section 2: 2-process CPU scaling ----------------------------------------------------------


def cli_samples_per_s(devices: int, threads: int, data: str, epochs: int,
                      folder: Path) -> float:
    """Median samples_per_s over the epochs after the first (whose start pays for first
    touches), from the run folder's metrics.csv (summed over the ranks by the runner).
    `threads`: OMP_NUM_THREADS of each process."""
    out = folder / f"devices{devices}-threads{threads}"
    command = [sys.executable, "-m", "builder", "train", str(ROOT / "examples/digits_cnn.json"),
               "--data", data, "--accelerator", "cpu", "--devices", str(devices),
               "--max-epochs", str(epochs), "--batch-size", "64",
               "--early-stopping-patience", "0", "--out", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"bench_training: `{' '.join(command[2:])}` failed: {tail}")
    with (out / "metrics.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    values = [float(row["samples_per_s"]) for row in rows]
    return statistics.median(values[1:] or values)


def scaling(quick: bool, default_threads: int) -> dict:
    """`default_threads`: what one process uses when not told (PyTorch's default here)."""
    samples, epochs = (6000, 2) if quick else (12000, 3)
    data = f"synthetic:shape=1,8,8,classes=10,n={samples}"
    cores = os.cpu_count() or 1
    print(f"\n2-process CPU scaling: torchcanvas train examples/digits_cnn.json --data {data} "
          f"--batch-size 64 (per process), {epochs} epochs; median samples/s of epochs "
          f"2..{epochs} from metrics.csv")
    print(f"  this machine has {cores} CPU cores"
          + (" and is shared: two processes leave nothing for anything else, so expect "
             "noise" if cores <= 2 else ""))
    folder = Path(tempfile.mkdtemp(prefix="bench-training-scaling-"))
    all_threads = f"1 process, {default_threads} threads"
    # Threads set for each run (torchrun's own default is 1 per worker; a user's
    # OMP_NUM_THREADS must not change what is compared).
    configs = {"1 process, 1 thread": (1, 1), "2 processes, 1 thread each": (2, 1)}
    if not quick and default_threads > 1:
        configs[all_threads] = (1, default_threads)
    try:
        figures = {name: cli_samples_per_s(devices, threads, data, epochs, folder)
                   for name, (devices, threads) in configs.items()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    one, two = figures["1 process, 1 thread"], figures["2 processes, 1 thread each"]
    for name, value in figures.items():
        print(f"  {name:<28} {value:>10,.0f} samples/s")
    efficiency = two / (2 * one)
    print(f"  efficiency (2-process / (2 x 1-process, same threads per process)): "
          f"{efficiency:.2f}")
    result = {"data": data, "epochs": epochs, "cpu_cores": cores, "samples_per_s": figures,
              "efficiency": efficiency}
    if all_threads in figures:
        result["speedup_vs_1_process_all_threads"] = two / figures[all_threads]
        print(f"  2 processes against {all_threads}: {two / figures[all_threads]:.2f}x")
    return result


# --- the run -----------------------------------------------------------------------------------


def workloads(quick: bool, gpu: bool) -> list[Workload]:
    """A few hundred steps each (fewer with --quick): short repetitions, many of them, so a
    burst of other work on the machine spoils few of them and the median holds."""
    works = [training_models.digits_cnn(epochs=3 if quick else 8),
             training_models.mlp(epochs=2 if quick else 4, samples=4096 if quick else 8192)]
    if gpu:
        works.append(training_models.cifar_resnet18(epochs=1 if quick else 3,
                                                    samples=5120 if quick else 10240))
    return works


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    parser.add_argument("--device", choices=("cpu", "cuda"),
                        help="default: cuda when available, else cpu")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the model on both sides")
    parser.add_argument("--rounds", type=int, help="interleaved repetitions (default 9; 3 "
                        "with --quick)")
    parser.add_argument("--threads", type=int, help="torch threads for the in-process runs "
                        "(default: PyTorch's own); 1 is steadier on a small shared machine")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 2-process runs")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="also write the figures as JSON to PATH (stdout without one)")
    args = parser.parse_args()
    device_name = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device_name == "cuda" and not torch.cuda.is_available():
        print("bench_training: --device cuda: no CUDA device here", file=sys.stderr)
        return 2
    device = torch.device(device_name)
    default_threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = device.type == "cuda"
    rounds = args.rounds or (3 if args.quick else 9)
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    threads = torch.get_num_threads()
    where = torch.cuda.get_device_name(device) if gpu else \
        f"CPU, {threads} thread{'s' if threads > 1 else ''}, {os.cpu_count()} cores"
    print(f"training speed: runner against a plain PyTorch loop on {where}; torch "
          f"{torch.__version__}; load average {load:.1f} at the start (other work on the "
          f"machine shows as noise)")
    if gpu:
        print("GPU: the runner with --precision bf16-mixed (autocast, channels_last for conv "
              "nets, fused AdamW, TF32, the dataset on the GPU); the plain loop in fp32 and "
              "with bf16 autocast, PyTorch's default backend flags")
    results = {"device": where, "torch": torch.__version__, "load_average": load,
               "compile": args.compile, "comparisons": []}
    try:
        for work in workloads(args.quick, gpu):
            results["comparisons"].append(compare(work, device, rounds, gpu, args.compile))
    except Exception as err:
        if not args.compile:
            raise
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        print(f"bench_training: --compile failed on {device}: {line[:200]}", file=sys.stderr)
        return 1
    if not args.no_scaling:
        results["scaling"] = scaling(args.quick, default_threads)
    results["seconds"] = time.perf_counter() - started
    print(f"\n({results['seconds']:.0f} s in all)")
    if args.json == "-":
        print(json.dumps(results, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
