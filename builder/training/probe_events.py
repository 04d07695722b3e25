"""The --json-progress lines of `torchcanvas sanity` and `torchcanvas lr-find`, for the app.

As for a training run (builder/training/logs.py): one JSON object per line on stdout, flushed at
once, each with ``"event"`` and ``"time"`` (unix seconds); NaN and infinities are ``null``;
readers ignore events and fields they do not know. Text for people goes to stderr meanwhile.

``sanity --json-progress``:

- ``{"event": "init_check", "layers": [LAYER, ...]}`` first, with ``--check-init`` (LAYER as in
  builder/training/init_check.py);
- ``{"event": "rung_started", "name": str}`` before each rung, and after it
  ``{"event": "rung", "name": str, "passed": bool, "loss": float | null, "threshold": float |
  null, "steps": int, "notes": [str, ...]}``. The names, in order: ``"init"``, ``"1 sample"``,
  ``"10 samples"``, ``"full"``. ``loss``: at initialisation for "init", else the last measured
  ("full": the mean of the last ten); ``threshold``: what "init" expected (ln C), or the loss to
  get below; ``steps``: optimiser steps taken; ``notes``: why it failed, or how it ran;
- ``{"event": "ladder", "passed": bool, "lr": float, "causes": [str, ...], "cause_nodes":
  [{"cause": str, "node": str}, ...]}`` at the end. ``causes`` are the likely causes of a
  failure, one line each (empty when every rung passed); ``cause_nodes`` pairs each cause that
  is about one layer with its drawn node's name (a softmax right before cross-entropy, a layer
  that gets no gradient, one that is dead or exploding at initialisation; a dotted path for a
  layer inside a block, the module path for a model given as a SPEC).

The exit status stays 0 (every rung passed) or 1 (one failed, after the ``ladder`` line); an
error that stops the ladder (exit 1 or 2) ends stdout with ``{"event": "error", "message": str,
"code": int}``.

``lr-find --json-progress``:

- ``{"event": "lr_step", "step": int, "lr": float, "loss": float | null}`` for each step of the
  sweep (step counts from 0; a null loss was NaN or infinite, and the sweep stops there);
- ``{"event": "lr_find", "suggested_lr": float | null, "lrs": [float], "losses": [float],
  "smoothed": [float], "folder": str, "stopped_early": bool}`` at the end: the sweep as
  ``lr_find.json`` in ``folder`` keeps it (``suggested_lr`` null: the loss never fell).

An error ends it with the same ``error`` line.
"""

from __future__ import annotations

from pathlib import Path

from builder.training.lr_find import LrFindResult
from builder.training.sanity import LadderReport, Rung


def rung_record(rung: Rung) -> dict:
    return {
        "name": rung.name,
        "passed": rung.passed,
        "loss": rung.loss,
        "threshold": rung.threshold,
        "steps": rung.steps,
        "notes": list(rung.notes),
    }


def ladder_record(report: LadderReport) -> dict:
    return {
        "passed": report.passed,
        "lr": report.lr,
        "causes": list(report.causes),
        "cause_nodes": [{"cause": cause, "node": node} for cause, node in report.cause_nodes],
    }


def lr_find_record(result: LrFindResult, folder: Path) -> dict:
    return {
        "suggested_lr": result.suggested_lr,
        "lrs": result.lrs,
        "losses": result.losses,
        "smoothed": result.smoothed,
        "folder": str(folder),
        "stopped_early": result.stopped_early,
    }
