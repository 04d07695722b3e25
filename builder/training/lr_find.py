"""`torchcanvas lr-find`: the learning-rate range test (Smith, "Cyclical Learning Rates", 2017).

Train from the initial weights while the learning rate grows exponentially from `start_lr` to
`end_lr`, one batch a step. The loss is smoothed by an exponential moving average (weight
`smoothing` for the newest loss) with bias correction, so that the first points are not dragged
towards zero. The sweep stops early when the smoothed loss exceeds `diverge_factor` times the best
so far (or a loss is NaN/Inf): beyond that point it only explodes.

The suggestion is the learning rate where the smoothed loss falls fastest, the steepest negative
slope against log(lr), looked for between the first tenth of the sweep (the average is still
settling there) and the minimum (past it the loss rises). The loss is still falling quickly at that
rate, while the minimum itself is already at the edge of divergence: the other common rule, a
tenth of the rate at the minimum, usually lands near it. No suggestion when the loss never fell.

The model's weights, buffers, gradients and mode, and every torch RNG, are put back bitwise after
the sweep; the optimiser is the sweep's own and is thrown away.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from builder.training.inputs import call
from builder.training.problem import Problem, preserved_rng, restored, shuffled_batches
from graph_schema.files import atomic_write_bytes

SKIP_START = 0.1  # the share of the sweep where the average is still settling


@dataclass
class LrFindResult:
    lrs: list[float]
    losses: list[float]  # the raw loss of each step's batch, before that step
    smoothed: list[float]
    suggested_lr: float | None  # None when the loss never fell
    stopped_early: bool  # diverged (or a NaN) before end_lr


def _ignore(_step: int, _lr: float, _loss: float) -> None:
    pass


def lr_range_test(problem: Problem, *, start_lr: float = 1e-7, end_lr: float = 10,
                  steps: int = 100, smoothing: float = 0.05, diverge_factor: float = 4,
                  on_step: Callable[[int, float, float], None] = _ignore) -> LrFindResult:
    """The sweep; `on_step(step, lr, loss)` after each step's loss is measured (step counts
    from 0, the loss may be NaN: the sweep stops there)."""
    _check_arguments(start_lr, end_lr, steps, smoothing, diverge_factor)
    model, task = problem.model, problem.task
    result = LrFindResult([], [], [], None, False)
    growth = (end_lr / start_lr) ** (1 / (steps - 1))
    with restored(model), preserved_rng(problem.device):
        torch.manual_seed(problem.seed)
        model.train()
        optimizer = problem.make_optimizer(model.parameters(), start_lr)
        average, best = 0.0, math.inf
        for step, (x, y) in zip(range(steps), shuffled_batches(problem)):
            lr = start_lr * growth ** step
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = task.loss_fn(call(model, x), y)
            value = loss.item()
            on_step(step, lr, value)
            if not math.isfinite(value):
                result.stopped_early = True
                break
            average = (1 - smoothing) * average + smoothing * value
            smoothed = average / (1 - (1 - smoothing) ** (step + 1))
            result.lrs.append(lr)
            result.losses.append(value)
            result.smoothed.append(smoothed)
            if smoothed > diverge_factor * best:
                result.stopped_early = True
                break
            best = min(best, smoothed)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.zero_grad(set_to_none=True)
    result.suggested_lr = suggest(result.lrs, result.smoothed)
    return result


def _check_arguments(start_lr: float, end_lr: float, steps: int, smoothing: float,
                     diverge_factor: float) -> None:
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr-find needs 0 < start lr < end lr, got {start_lr:g} and {end_lr:g}")
    if steps < 2:
        raise ValueError(f"lr-find needs at least 2 steps, got {steps}")
    if not 0 < smoothing <= 1:
        raise ValueError(f"lr-find smoothing must be in (0, 1], got {smoothing:g}")
    if diverge_factor <= 1:
        raise ValueError(f"lr-find diverge factor must be above 1, got {diverge_factor:g}")


def suggest(lrs: list[float], smoothed: list[float]) -> float | None:
    """The lr at the steepest descent of `smoothed` against log10(lr), between the first tenth
    of the sweep and the minimum; None when the loss never fell."""
    if len(smoothed) < 3:
        return None
    lowest = int(np.argmin(smoothed))
    start = min(int(len(smoothed) * SKIP_START), max(lowest - 2, 0))
    if lowest - start < 2:
        return None
    window = np.asarray(smoothed[start:lowest + 1])
    slopes = np.gradient(window, np.log10(lrs[start:lowest + 1]))
    steepest = int(np.argmin(slopes))
    return float(lrs[start + steepest]) if slopes[steepest] < 0 else None


def plot_lr_find(result: LrFindResult, path: str | os.PathLike) -> None:
    """The sweep as a PNG: raw and smoothed loss against the learning rate (log scale), the
    suggestion marked. Written atomically; raises OSError when it cannot be written."""
    figure = Figure(figsize=(6.4, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(result.lrs, result.losses, color="0.7", linewidth=1, label="loss")
    axes.plot(result.lrs, result.smoothed, color="C0", linewidth=2, label="smoothed loss")
    if result.suggested_lr is not None:
        axes.axvline(result.suggested_lr, color="C3", linestyle="--",
                     label=f"suggested lr {result.suggested_lr:.2g}")
    if result.lrs:
        axes.set_xscale("log")
        _limit_y(axes, result.smoothed)
    axes.set_xlabel("learning rate")
    axes.set_ylabel("training loss")
    title = "LR range test" + (" (stopped: the loss diverged)" if result.stopped_early else "")
    axes.set_title(title)
    axes.legend(loc="best")
    axes.grid(True, which="both", alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(path, buffer.getvalue())


def _limit_y(axes, smoothed: list[float]) -> None:
    """Keep the diverging tail from squashing the interesting part of the curve flat."""
    low, first = min(smoothed), smoothed[0]
    high = max(first, low) * 1.5
    if high > low:
        axes.set_ylim(low - 0.05 * (high - low), high)
