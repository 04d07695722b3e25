"""`torchcanvas sanity`: the paper-implementer's ladder, run before any long training.

1. "init": the loss at initialisation against what an untrained classifier should score (ln C for
   C classes; within `init_tolerance` * ln C), and every trainable parameter gets a gradient.
   A softmax before cross-entropy also scores ln C at init, so the rung looks at the output too:
   rows that are probabilities (in [0, 1], summing to 1) fail it. (Its gradients are only about
   C times smaller than a correct model's, too close to tell apart by magnitude.)
   For a regression the loss is reported, and passes when it is finite.
2. "1 sample": overfit one sample from the initial weights, until the loss falls below
   `overfit_loss` (classification: the right class at ~90%) or `overfit_fraction` of its first
   value (regression), within a step budget.
3. "10 samples": the same on ten samples.
4. "full": a short run over the whole training set (at most `Steps.full` batches); passes when
   the mean of the last ten batch losses falls below `full_fraction` of the loss at init
   (classification: of the smaller of that and ln C).

The budgets and thresholds are set so that small sound models at everyday learning rates (an MLP
of 32 hidden units or a small CNN on digits, Adam at 1e-3, SGD at 1e-2 to 1e-1) pass, each rung
stopping as soon as it is met, while the broken setups above stay far from passing.

Every rung restarts from the same initial weights with the same seed, and the model, its mode and
every torch RNG are put back afterwards. When a rung fails, the likely causes the ladder can detect
come one line each: a softmax before the loss (the graph's lint, or the output itself), a layer
that gets no gradient (frozen, detached, unused), a learning rate too high (the loss rose or became
NaN) or too low (it barely moved), and dead or exploding activations at initialisation. A cause
about one layer also names its node (`LadderReport.cause_nodes`), for the app to point at it.

The rungs' names, in order: "init", "1 sample", "10 samples", "full" (`RUNG_NAMES`).
`run_ladder` reports each rung as it starts and ends through `started` and `finished`; the
`sanity --json-progress` lines built from them are described in builder/training/probe_events.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from builder.training.init_check import LayerStats, activation_report
from builder.training.inputs import call
from builder.training.problem import (
    Batch,
    Problem,
    first_batch,
    preserved_rng,
    restored,
    shuffled_batches,
)
from builder.training.task import CLASS_LOSSES, prediction
from graph_schema.diagnostics import one_line

SOFTMAX_LINT = "softmax-before-loss"  # graph_schema/lints.py
FULL_WINDOW = 10  # the full rung judges the mean of this many last batch losses
MAX_INIT_CAUSES = 3
RUNG_NAMES = ("init", "1 sample", "10 samples", "full")


@dataclass(frozen=True)
class Steps:
    one_sample: int = 200
    ten_samples: int = 300
    full: int = 300  # batches over the whole set (several epochs of a small one); stops once met


@dataclass(frozen=True)
class Thresholds:
    init_tolerance: float = 0.5  # classification: |loss at init - ln C| <= this * ln C
    overfit_loss: float = 0.1  # classification, rungs 2 and 3: below this loss
    overfit_fraction: float = 0.05  # regression, rungs 2 and 3: below this share of the first loss
    full_fraction: float = 0.5  # rung 4: below this share of the loss at init
    diverge_factor: float = 2.0  # a loss above this multiple of its first value: diverging
    stalled_fraction: float = 0.9  # a loss still above this share of its first: barely moved


@dataclass
class Rung:
    name: str
    passed: bool
    loss: float  # at init for rung 1, else the last measured (rung 4: the mean of the last ten)
    threshold: float | None  # rung 1: the expected loss; None when there is nothing to compare
    steps: int  # optimiser steps taken (until the loss fell below the threshold, or all)
    losses: list[float] = field(default_factory=list)  # one per step, before it
    notes: list[str] = field(default_factory=list)  # why it failed, or how it ran; one a line

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


@dataclass
class LadderReport:
    rungs: list[Rung]
    causes: list[str]  # likely causes of a failure, one line each ([] when every rung passes)
    init_stats: list[LayerStats]
    lr: float
    # (cause, node name) for each cause about one drawn node (a module path for a SPEC)
    cause_nodes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(rung.passed for rung in self.rungs)


# A likely cause: its line, and the node it is about (None when it is about no one node).
Cause = tuple[str, str | None]


@dataclass(frozen=True)
class _Probe:
    """What one forward and backward at initialisation showed."""

    output: str  # "probabilities", "log-probabilities" or "scores"
    gradient_findings: list[Cause]


def _ignore(_value) -> None:
    pass


def run_ladder(problem: Problem, *, steps: Steps = Steps(),
               thresholds: Thresholds = Thresholds(),
               started: Callable[[str], None] = _ignore,
               finished: Callable[[Rung], None] = _ignore) -> LadderReport:
    """Climb the ladder; `started(name)` before each rung, `finished(rung)` after it."""
    model = problem.model
    with restored(model) as initial, preserved_rng(problem.device):
        x, y = first_batch(problem, problem.batch_size)
        init_stats = activation_report(model, x, problem.node_names)
        started(RUNG_NAMES[0])
        init, probe = _init_rung(problem, initial, x, y, thresholds)
        finished(init)
        rungs = [init]
        for name in RUNG_NAMES[1:]:
            started(name)
            rungs.append(_training_rung_named(name, problem, initial, init.loss, steps,
                                              thresholds))
            finished(rungs[-1])
    failed = not all(rung.passed for rung in rungs)
    causes = _likely_causes(problem, rungs, probe, init_stats, thresholds) if failed else []
    return LadderReport(rungs, [text for text, _node in causes], init_stats, problem.lr,
                        [(text, node) for text, node in causes if node])


# --- the rungs ---------------------------------------------------------------------------------


def _init_rung(problem: Problem, initial: dict, x: torch.Tensor, y: torch.Tensor,
               thresholds: Thresholds) -> tuple[Rung, _Probe]:
    model, task = problem.model, problem.task
    _restart(problem, initial)
    output = call(model, x)
    loss = task.loss_fn(output, y)
    loss.backward()
    probe = _Probe(_output_kind(prediction(output).detach()), _gradient_findings(problem))
    value, expected = loss.item(), task.expected_initial_loss
    notes = []
    if not math.isfinite(value):
        notes.append("the loss at initialisation is not finite")
    elif expected is not None and abs(value - expected) > thresholds.init_tolerance * expected:
        notes.append(f"expected about {expected:.3g} (ln {task.num_classes})")
    if task.loss == "cross_entropy" and probe.output == "probabilities":
        notes.append("the output rows are probabilities (sum to 1), not raw logits")
    if probe.gradient_findings:
        notes.append(f"{len(probe.gradient_findings)} layer(s) will not learn")
    model.zero_grad(set_to_none=True)
    return Rung(RUNG_NAMES[0], not notes, value, expected, 0, [value], notes), probe


def _training_rung_named(name: str, problem: Problem, initial: dict, init_loss: float,
                         steps: Steps, thresholds: Thresholds) -> Rung:
    if name == RUNG_NAMES[3]:
        return _full_rung(problem, initial, init_loss, steps, thresholds)
    n, budget = (1, steps.one_sample) if name == RUNG_NAMES[1] else (10, steps.ten_samples)
    return _overfit_rung(problem, initial, name, n, budget, thresholds)


def _overfit_rung(problem: Problem, initial: dict, name: str, n: int, budget: int,
                  thresholds: Thresholds) -> Rung:
    x, y = first_batch(problem, n)
    classification = problem.task.kind == "classification"

    def threshold(losses: list[float]) -> float:
        return thresholds.overfit_loss if classification else \
            thresholds.overfit_fraction * losses[0]

    def reached(losses: list[float]) -> bool:
        return losses[-1] < threshold(losses)

    notes = []
    try:
        losses = _train(problem, initial, _repeat((x, y)), budget, reached, train_mode=True)
    except ValueError as error:
        if "more than 1 value per channel" not in str(error):
            raise
        # BatchNorm1d cannot normalise a batch of one: train in eval mode (running statistics).
        losses = _train(problem, initial, _repeat((x, y)), budget, reached, train_mode=False)
        notes.append("batch norm cannot train on one sample, so it ran in eval mode")
    return _training_rung(name, losses, threshold(losses), reached(losses), notes)


def _full_rung(problem: Problem, initial: dict, init_loss: float, steps: Steps,
               thresholds: Thresholds) -> Rung:
    reference = init_loss
    expected = problem.task.expected_initial_loss
    if expected is not None and math.isfinite(init_loss):
        reference = min(init_loss, expected)
    limit = thresholds.full_fraction * reference if math.isfinite(reference) else 0.0

    def reached(losses: list[float]) -> bool:
        return len(losses) >= FULL_WINDOW and _recent(losses) < limit

    losses = _train(problem, initial, shuffled_batches(problem), steps.full, reached,
                    train_mode=True)
    rung = _training_rung(RUNG_NAMES[3], losses, limit, reached(losses), [])
    rung.loss = _recent(losses)
    return rung


def _training_rung(name: str, losses: list[float], threshold: float, reached: bool,
                   notes: Sequence[str]) -> Rung:
    steps = len(losses) - 1
    why = [f"the loss became {losses[-1]} at step {steps}"] if not math.isfinite(losses[-1]) \
        else []
    return Rung(name, reached, losses[-1], threshold, steps, losses, why + list(notes))


def _train(problem: Problem, initial: dict, batches: Iterator[Batch], budget: int,
           reached: Callable[[list[float]], bool], *, train_mode: bool) -> list[float]:
    """Train from `initial` until `reached(losses)`, a non-finite loss, or `budget` steps. The
    losses are measured before each step, and once more after the last."""
    model, task = problem.model, problem.task
    _restart(problem, initial)
    model.train(train_mode)
    optimizer = problem.make_optimizer(model.parameters(), problem.lr)
    losses: list[float] = []
    for step, (x, y) in zip(range(budget + 1), batches):
        loss = task.loss_fn(call(model, x), y)
        losses.append(loss.item())
        if step == budget or not math.isfinite(losses[-1]) or reached(losses):
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return losses


def _restart(problem: Problem, initial: dict) -> None:
    problem.model.load_state_dict(initial)
    problem.model.zero_grad(set_to_none=True)
    problem.model.train()
    torch.manual_seed(problem.seed)


def _repeat(batch: Batch) -> Iterator[Batch]:
    while True:
        yield batch


def _recent(losses: list[float]) -> float:
    window = losses[-FULL_WINDOW:]
    return sum(window) / len(window)


# --- what the first forward and backward show ---------------------------------------------------


def _output_kind(output: torch.Tensor) -> str:
    if output.dim() != 2 or not output.is_floating_point():
        return "scores"
    out = output.double()
    if bool(((out >= 0) & (out <= 1)).all()) and _rows_sum_to_one(out):
        return "probabilities"
    if bool((out <= 1e-6).all()) and _rows_sum_to_one(out.exp()):
        return "log-probabilities"
    return "scores"


def _rows_sum_to_one(out: torch.Tensor) -> bool:
    return bool(((out.sum(dim=1) - 1).abs() < 1e-3).all())


def _gradient_findings(problem: Problem) -> list[Cause]:
    """One line per layer holding parameters that will not learn: frozen, without a gradient
    (detached or unused), or with an all-zero gradient; with the layer's node."""
    found: dict[tuple[str, str], list[str]] = {}
    for name, param in problem.model.named_parameters():
        kind = _gradient_kind(param)
        if kind:
            found.setdefault((name.rpartition(".")[0], kind), []).append(name)
    return [(_gradient_line(problem.node_name(path), kind, names), problem.node_name(path))
            for (path, kind), names in found.items()]


def _gradient_kind(param: nn.Parameter) -> str:
    if not param.requires_grad:
        return "frozen"
    if param.grad is None:
        return "none"
    return "zero" if not bool(param.grad.any()) else ""


def _gradient_line(node: str, kind: str, names: list[str]) -> str:
    params = ", ".join(names)
    if kind == "frozen":
        return (f"node '{node}' is frozen: {params} has requires_grad=False, so it keeps its "
                f"random initial weights")
    if kind == "none":
        return (f"node '{node}' gets no gradient ({params}): it is detached from the loss "
                f"(a .detach() or torch.no_grad in forward) or never used")
    return (f"node '{node}' gets an all-zero gradient ({params}): nothing after it passes a "
            f"gradient back (dead ReLUs, a zero weight)")


# --- likely causes ---------------------------------------------------------------------------


def _likely_causes(problem: Problem, rungs: list[Rung], probe: _Probe,
                   init_stats: list[LayerStats], thresholds: Thresholds) -> list[Cause]:
    # Root causes first: a dead layer at init is why the layers before it get zero gradients.
    causes = _softmax_causes(problem, probe, init_stats)
    flagged = [s for s in init_stats if s.flagged]
    causes += [(f"node '{s.name}' ({s.type}) at initialisation: {s.reason} (see --check-init)",
                s.name) for s in flagged[:MAX_INIT_CAUSES]]
    if len(flagged) > MAX_INIT_CAUSES:
        causes.append((f"... and {len(flagged) - MAX_INIT_CAUSES} more flagged layers "
                       f"(see --check-init)", None))
    causes += probe.gradient_findings
    causes += [(text, None) for text in
               _lr_causes(problem, rungs, thresholds, explained=bool(causes))]
    if not math.isfinite(rungs[0].loss):
        causes.append(("the loss is NaN or Inf before any step: look for NaN in the data and "
                       "for an exploding initialisation (--check-init)", None))
    return causes or [("no likely cause detected: try `torchcanvas lr-find` for the learning "
                       "rate and --check-init for the initialisation", None)]


def _softmax_causes(problem: Problem, probe: _Probe,
                    init_stats: list[LayerStats]) -> list[Cause]:
    lints = [d for d in problem.diagnostics if getattr(d, "code", "") == SOFTMAX_LINT]
    if lints:
        return [(one_line(f"softmax before the loss: node '{d.node_name or d.node_id}' "
                          f"{d.message}" + (f" (fix: {d.fix.label})" if d.fix else "")),
                 d.node_name or d.node_id)
                for d in lints]
    loss = problem.task.loss
    # Without the graph's lint, the softmax is the last layer to run when it is one at all.
    last = init_stats[-1] if init_stats else None
    node = last.name if last is not None and last.type == "Softmax" else None
    if loss in CLASS_LOSSES and probe.output == "probabilities":
        wants = "raw logits, since it applies log-softmax itself" if loss == "cross_entropy" \
            else "log-probabilities: end the network with LogSoftmax instead"
        return [(f"softmax before the loss: the model's output rows are probabilities (they "
                 f"sum to 1), but {loss} expects {wants}; remove the final softmax", node)]
    if loss == "nll" and probe.output == "scores":
        return [("loss nll expects log-probabilities, but the model's output rows are not: end "
                 "the network with LogSoftmax, or use --loss cross_entropy on raw logits", None)]
    return []


def _lr_causes(problem: Problem, rungs: list[Rung], thresholds: Thresholds,
               explained: bool) -> list[str]:
    lr = problem.lr
    failed = [rung for rung in rungs[1:] if not rung.passed and math.isfinite(rung.losses[0])]
    for rung in failed:
        if _diverged(rung.losses, thresholds):
            peak = max(rung.losses[1:], key=lambda v: math.inf if not math.isfinite(v) else v)
            return [f"learning rate too high: in '{rung.name}' the loss went from "
                    f"{rung.losses[0]:.3g} to {peak:.3g}; try --lr {lr / 10:g} or run "
                    f"`torchcanvas lr-find`"]
    if explained:
        return []
    for rung in failed:
        if rung.losses[-1] > thresholds.stalled_fraction * rung.losses[0]:
            return [f"learning rate may be too low: in '{rung.name}' the loss only moved from "
                    f"{rung.losses[0]:.3g} to {rung.losses[-1]:.3g} in {rung.steps} steps; try "
                    f"--lr {lr * 10:g} or run `torchcanvas lr-find`"]
    return []


def _diverged(losses: list[float], thresholds: Thresholds) -> bool:
    later = losses[1:]
    return any(not math.isfinite(v) for v in later) or \
        any(v > thresholds.diverge_factor * losses[0] for v in later)


# --- the report ------------------------------------------------------------------------------


def format_ladder(report: LadderReport) -> str:
    width = max(len(rung.name) for rung in report.rungs)
    lines = [f"sanity ladder (lr {report.lr:g})"]
    for rung in report.rungs:
        verdict = "pass" if rung.passed else "FAIL"
        lines.append(f"  {rung.name:<{width}}  {verdict}  {_rung_detail(rung)}")
    if report.passed:
        lines.append("verdict: pass (every rung passed)")
        return "\n".join(lines)
    failed = ", ".join(rung.name for rung in report.rungs if not rung.passed)
    lines.append(f"verdict: FAIL ({failed})")
    lines.append("likely causes:")
    lines += [f"  - {cause}" for cause in report.causes]
    return "\n".join(lines)


def _rung_detail(rung: Rung) -> str:
    if rung.name == "init":
        text = f"loss {rung.loss:.3g}" + \
            (f" (expected {rung.threshold:.3g})" if rung.threshold is not None else "")
    else:
        relation = "<" if rung.passed else "not <"
        text = f"loss {rung.loss:.3g} {relation} {rung.threshold:.3g} after {rung.steps} steps"
    return f"{text}: {rung.note}" if rung.note else text
