"""The end of a classification run: a confusion matrix on the validation set, and the samples the
model got most confidently wrong, for the app's Train panel to show.

One pass over the validation split with the model as training left it (the final weights), on
rank 0 alone, written into the run folder:

- ``confusion.json``: ``{"split": "val", "weights": "final", "classes": [str, ...],
  "matrix": [[int, ...], ...]}``. Row i, column j counts the samples of true class i that the
  model predicted as j. ``classes`` are the data's class names where it has them (a ``folder:``
  dataset's subfolders, a Python dataset's ``classes``), else ``"0"`` .. ``"C-1"``; C is the
  larger of the data's class count and the model's output width.
- ``misclassified.json``: ``{"split": "val", "weights": "final", "samples": [{"index": int,
  "label": int, "predicted": int, "confidence": float, "image": str | null}, ...]}``: at most
  ``MAX_SAMPLES`` wrong predictions, the most confident first. ``index`` is the sample's
  position in the validation split; ``confidence`` the softmax probability of the predicted
  class; ``image`` the path of its picture relative to the run folder
  (``misclassified/<k>.png``, k counting from 0 in this list), or null when the input is not
  image-like (image-like: one tensor shaped (C, H, W) with C 1 or 3, or (H, W)).

Pictures are scaled to the sample's own value range and enlarged by a whole factor (nearest
neighbour, so pixels stay sharp) until the shorter side is at least ``MIN_IMAGE_SIDE``.
Only tasks scored by class (cross-entropy or NLL on an (N, classes) output) are evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset, Subset

from builder.training import inputs, speed
from builder.training.batches import BatchSource, batches_of
from builder.training.logs import jsonable
from builder.training.run_folder import write_json
from builder.training.task import CLASS_LOSSES, Task, prediction

if TYPE_CHECKING:
    from PIL.Image import Image

CONFUSION_FILE, MISCLASSIFIED_FILE, IMAGES_DIR = (
    "confusion.json",
    "misclassified.json",
    "misclassified",
)
MAX_SAMPLES = 16
MIN_IMAGE_SIDE = 64


@dataclass(frozen=True)
class Mistake:
    index: int  # in the evaluated split
    label: int
    predicted: int
    confidence: float


@dataclass(frozen=True)
class Evaluation:
    classes: list[str]
    matrix: list[list[int]]
    mistakes: list[Mistake]  # the most confident first, at most MAX_SAMPLES


def evaluates(task: Task) -> bool:
    """Whether a run of `task` ends with a confusion matrix."""
    return task.kind == "classification" and task.loss in CLASS_LOSSES


@torch.no_grad()
def evaluate_classifier(
    model: nn.Module,
    dataset: Dataset,
    task: Task,
    device: torch.device,
    batch_size: int,
    precision: str = "32-true",
) -> Evaluation:
    """Predict every sample of `dataset` once, in eval mode (the model's mode is put back)."""
    labels, predicted, confidence = [], [], []
    width = 0
    was_training = model.training
    model.eval()
    try:
        source = BatchSource(dataset, device)
        for x, y in source.iterate(batches_of(list(range(len(dataset))), batch_size)):
            with speed.autocast(device, precision):
                output = prediction(inputs.call(model, x))
            probabilities = torch.softmax(output.float(), dim=1)
            best, chosen = probabilities.max(dim=1)
            width = max(width, output.shape[1])
            labels.append(y.cpu())
            predicted.append(chosen.cpu())
            confidence.append(best.cpu())
    finally:
        model.train(was_training)
    labels_t, predicted_t, confidence_t = (
        torch.cat(parts) if parts else torch.zeros(0) for parts in (labels, predicted, confidence)
    )
    count = max(task.num_classes or 0, width, int(labels_t.max()) + 1 if len(labels_t) else 0)
    return Evaluation(
        class_names(dataset, count),
        _confusion(labels_t.long(), predicted_t.long(), count),
        _mistakes(labels_t.long(), predicted_t.long(), confidence_t),
    )


def _confusion(labels: torch.Tensor, predicted: torch.Tensor, count: int) -> list[list[int]]:
    cells = torch.bincount(labels * count + predicted, minlength=count * count)
    return cells.reshape(count, count).tolist()


def _mistakes(
    labels: torch.Tensor, predicted: torch.Tensor, confidence: torch.Tensor
) -> list[Mistake]:
    wrong = (labels != predicted).nonzero().flatten().tolist()
    wrong.sort(key=lambda i: (-float(confidence[i]), i))
    return [
        Mistake(i, int(labels[i]), int(predicted[i]), float(confidence[i]))
        for i in wrong[:MAX_SAMPLES]
    ]


def class_names(dataset: Dataset, count: int) -> list[str]:
    """The data's class names (a `classes` list of strings on the dataset or any dataset it
    wraps), padded with indices up to `count`; "0".."count-1" when it has none."""
    names: list[str] = []
    seen = 0
    while dataset is not None and seen < 8:  # Subset of a wrapper of the user's dataset...
        found = getattr(dataset, "classes", None)
        if isinstance(found, (list, tuple)) and found and all(isinstance(n, str) for n in found):
            names = list(found)
            break
        dataset = (
            dataset.dataset if isinstance(dataset, Subset) else getattr(dataset, "dataset", None)
        )
        seen += 1
    return [names[i] if i < len(names) else str(i) for i in range(count)]


def write_evaluation(run_dir: Path, evaluation: Evaluation, dataset: Dataset) -> None:
    """confusion.json, misclassified.json and the pictures, into `run_dir` (see the module
    docstring). Pictures of an earlier end of the same run (a resumed one) are replaced."""
    images = run_dir / IMAGES_DIR
    for old in images.glob("*.png") if images.is_dir() else ():
        old.unlink()
    samples = []
    for k, mistake in enumerate(evaluation.mistakes):
        path = _save_picture(dataset[mistake.index][0], images, k)
        samples.append(
            {
                "index": mistake.index,
                "label": mistake.label,
                "predicted": mistake.predicted,
                "confidence": mistake.confidence,
                "image": path,
            }
        )
    common = {"split": "val", "weights": "final"}
    write_json(
        run_dir / CONFUSION_FILE,
        jsonable({**common, "classes": evaluation.classes, "matrix": evaluation.matrix}),
    )
    write_json(run_dir / MISCLASSIFIED_FILE, jsonable({**common, "samples": samples}))


def _save_picture(x, images: Path, k: int) -> str | None:
    """The picture's path relative to the run folder; None when `x` is not image-like or the
    file cannot be written (a picture must never fail a finished run)."""
    picture = picture_of(x)
    if picture is None:
        return None
    try:
        images.mkdir(exist_ok=True)
        picture.save(images / f"{k}.png")
    except OSError:
        return None
    return f"{IMAGES_DIR}/{k}.png"


def picture_of(x) -> Image | None:
    """A Pillow image of one input sample when it is image-like, else None."""
    from PIL import Image

    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        return None
    if x.dim() == 3 and x.shape[0] in (1, 3):
        pixels = x.permute(1, 2, 0)
    elif x.dim() == 2:
        pixels = x.unsqueeze(-1)
    else:
        return None
    values = pixels.detach().double().cpu().numpy()
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    scaled = np.nan_to_num((values - low) / (high - low) if high > low else values * 0.0)
    grey = (np.clip(scaled, 0, 1) * 255).round().astype(np.uint8)
    image = Image.fromarray(grey[:, :, 0] if grey.shape[2] == 1 else grey)
    factor = max(1, math.ceil(MIN_IMAGE_SIDE / max(1, min(image.width, image.height))))
    if factor > 1:
        image = image.resize((image.width * factor, image.height * factor), Image.NEAREST)
    return image
