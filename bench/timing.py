"""Timing helpers shared by the benchmarks: wall time of one call, and the best of several."""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path


def timed(run: Callable[[], object]) -> float:
    """Wall time of one call in seconds, after collecting garbage left by earlier work."""
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def best_of(run: Callable[[], object], repeats: int) -> float:
    """Best wall time in seconds; the collector is off while timing, as timeit does."""
    best = float("inf")
    gc.collect()
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def bench_parser(description: str, quick_help: str) -> argparse.ArgumentParser:
    """The flags every size-sweeping benchmark takes: --json PATH and --quick."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def write_figures(path: str | None, rows: list[dict], targets: dict[str, str]) -> None:
    """The figures as JSON (rows, and PASS/MISS per target), when --json asked for them."""
    if path:
        Path(path).write_text(json.dumps({"rows": rows, "targets": targets}, indent=2) + "\n")
