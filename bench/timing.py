"""Timing helpers shared by the benchmarks: wall time of one call, and the best of several."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


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
