"""What a run optimises and how it is judged: the loss, the metric, and whether both fit the model.

A classification task scores accuracy, a regression task mean absolute error. `check_fit` runs
before the first step, so a loss that cannot take the model's output stops the run with the
shapes and a likely fix, instead of a broadcasting warning or a cryptic error at step one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from builder.training import config

LOSS_FUNCTIONS = {
    "cross_entropy": F.cross_entropy,
    "nll": F.nll_loss,
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "smooth_l1": F.smooth_l1_loss,
    "bce": F.binary_cross_entropy,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
}
CLASS_LOSSES = ("cross_entropy", "nll")
TASKS = config.TASKS


def prediction(output):
    """The tensor a loss scores, from what a model returns: the tensor itself, the `logits` of a
    Hugging Face ModelOutput (or a dict), or the first item of a tuple. None when there is none."""
    if isinstance(output, torch.Tensor):
        return output
    logits = output.get("logits") if isinstance(output, dict) else getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


class TaskMismatch(Exception):
    """The loss cannot take the model's output or the data's targets; one line with a fix."""


@dataclass(frozen=True)
class Task:
    kind: str  # "classification" or "regression"
    loss: str  # a key of LOSS_FUNCTIONS
    num_classes: int | None = None

    @property
    def metric(self) -> str:
        """The validation metric's column in metrics.csv."""
        return "val_acc" if self.kind == "classification" else "val_mae"

    @property
    def higher_is_better(self) -> bool:
        return self.kind == "classification"

    @property
    def expected_initial_loss(self) -> float | None:
        """What an untrained classifier should score: ln C for C equally likely classes."""
        if self.loss == "cross_entropy" and self.num_classes and self.num_classes > 1:
            return math.log(self.num_classes)
        return None

    def loss_fn(self, output, target: torch.Tensor) -> torch.Tensor:
        output = prediction(output)
        if self.loss not in CLASS_LOSSES and target.shape != output.shape:
            target = target.reshape(output.shape)  # (N,) targets for an (N, 1) output
        return LOSS_FUNCTIONS[self.loss](output, target)

    def metric_sum(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The batch's metric summed over samples (correct predictions, or absolute errors), so
        that sums from every batch and every rank add up to the exact dataset figure."""
        output = prediction(output)
        if self.kind == "classification":
            return (output.argmax(dim=1) == target).sum().to(torch.float64)
        errors = (output.float() - target.float().reshape(output.shape)).abs()
        return errors.reshape(len(output), -1).mean(dim=1).sum().to(torch.float64)


def resolve_task(kind: str | None, loss: str | None, dataset) -> Task:
    """The task from the flags, the project and the data: the data decides when nothing else
    does (integer labels: classification; float targets: regression)."""
    data_kind = getattr(dataset, "task", None)
    kind = kind or data_kind or "classification"
    if kind not in ("classification", "regression"):
        raise TaskMismatch(f"task {kind!r} is not one the runner trains with a loss "
                           f"(classification, regression; gan has its own command flags)")
    if data_kind and data_kind != kind:
        labels = "integer class labels" if data_kind == "classification" else "float targets"
        raise TaskMismatch(f"the data has {labels}, which suits {data_kind}, but the task is "
                           f"{kind}; pass --task {data_kind}")
    if loss is None:
        loss = "cross_entropy" if kind == "classification" else "mse"
    if loss not in LOSS_FUNCTIONS:
        raise TaskMismatch(f"unknown loss {loss!r} (one of {', '.join(LOSS_FUNCTIONS)})")
    return Task(kind, loss, getattr(dataset, "num_classes", None))


def check_fit(task: Task, output: torch.Tensor, target: torch.Tensor) -> None:
    """Raise TaskMismatch when `task.loss` cannot take this output and target (one batch)."""
    out, tgt = tuple(output.shape), tuple(target.shape)
    if task.loss in CLASS_LOSSES:
        _check_class_fit(task, out, tgt)
    elif not target.is_floating_point():
        raise TaskMismatch(f"loss {task.loss} needs float targets, but the data has integer class "
                           f"labels {_shape(tgt)}; use --loss cross_entropy for classification")
    elif math.prod(out) != math.prod(tgt):
        raise TaskMismatch(f"loss {task.loss}: the model's output {_shape(out)} does not match "
                           f"the targets {_shape(tgt)}; make the last layer produce "
                           f"{_shape(tgt)}")
    if task.loss == "bce" and (output.min() < 0 or output.max() > 1):
        raise TaskMismatch("loss bce needs probabilities in [0, 1], but the model's output is "
                           "not; end the network with a Sigmoid or use --loss bce_with_logits")


def _check_class_fit(task: Task, out: tuple, tgt: tuple) -> None:
    if len(out) != 2:
        squeeze = [i for i, d in enumerate(out[2:], start=2) if d == 1]
        fix = (f"insert a Flatten (or squeeze dim {squeeze[0]}) before the loss"
               if len(out) > 2 and len(squeeze) == len(out) - 2
               else "end the network with a Linear layer giving (N, classes)")
        raise TaskMismatch(f"loss {task.loss} expects the model's output as (N, classes), but "
                           f"it is {_shape(out)}; {fix}")
    classes = task.num_classes
    if classes is not None and out[1] < classes:
        raise TaskMismatch(f"loss {task.loss}: the model's output {_shape(out)} has {out[1]} "
                           f"classes but the data has labels up to {classes - 1}; set the last "
                           f"layer's out_features to {classes}")
    if len(tgt) != 1:
        raise TaskMismatch(f"loss {task.loss} expects one integer class label per sample, but "
                           f"the targets are {_shape(tgt)}; for float targets use --task "
                           f"regression --loss mse")


def _shape(dims: tuple) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ")"
