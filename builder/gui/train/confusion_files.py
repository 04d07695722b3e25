"""The files a finished classification run leaves for the app, read and checked (no Qt).

``confusion.json``: ``{"split": "val", "weights": "final"|"best", "classes": [str, ...],
"matrix": [[int, ...], ...]}``, rows the true class, columns the predicted one.

``misclassified.json``: ``{"samples": [{"index": int, "label": int, "predicted": int,
"confidence": float, "image": "misclassified/<k>.png" or null}, ...]}``, image paths relative
to the run folder.

A file that is missing or malformed raises RunFileError with one line for the user; fields
this reader does not know are ignored (new ones may be added).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CONFUSION_FILE, MISCLASSIFIED_FILE = "confusion.json", "misclassified.json"


class RunFileError(Exception):
    """A run file that cannot be shown; the message is one line for the user."""


@dataclass(frozen=True)
class Confusion:
    classes: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]
    split: str = ""
    weights: str = ""

    @property
    def total(self) -> int:
        return sum(map(sum, self.matrix))

    @property
    def correct(self) -> int:
        return sum(row[i] for i, row in enumerate(self.matrix))

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.total if self.total else None

    def class_name(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else str(index)


@dataclass(frozen=True)
class Misclassified:
    index: int
    label: int
    predicted: int
    confidence: float | None
    image: Path | None  # absolute, inside the run folder; None when the run saved none


def read_confusion(run_dir: Path) -> Confusion:
    data = _read_object(Path(run_dir) / CONFUSION_FILE)
    classes = data.get("classes")
    if (
        not isinstance(classes, list)
        or not classes
        or not all(isinstance(name, str) for name in classes)
    ):
        raise RunFileError(f"{CONFUSION_FILE}: 'classes' must be a list of class names")
    matrix = data.get("matrix")
    count = len(classes)
    if not isinstance(matrix, list) or len(matrix) != count:
        rows = len(matrix) if isinstance(matrix, list) else "no"
        raise RunFileError(f"{CONFUSION_FILE}: 'matrix' has {rows} rows for {count} classes")
    for number, row in enumerate(matrix):
        if not isinstance(row, list) or len(row) != count:
            size = len(row) if isinstance(row, list) else "no"
            raise RunFileError(
                f"{CONFUSION_FILE}: matrix row {number} has {size} counts for {count} classes"
            )
        if not all(_is_int(cell) and cell >= 0 for cell in row):
            raise RunFileError(
                f"{CONFUSION_FILE}: matrix row {number} has a count that is not a whole number >= 0"
            )
    return Confusion(
        classes=tuple(classes),
        matrix=tuple(tuple(row) for row in matrix),
        split=_text(data.get("split")),
        weights=_text(data.get("weights")),
    )


def read_misclassified(run_dir: Path, class_count: int | None = None) -> list[Misclassified]:
    """The samples of misclassified.json; ``class_count`` (when known) bounds the labels."""
    run_dir = Path(run_dir)
    data = _read_object(run_dir / MISCLASSIFIED_FILE)
    samples = data.get("samples")
    if not isinstance(samples, list):
        raise RunFileError(f"{MISCLASSIFIED_FILE}: 'samples' must be a list")
    return [_sample(run_dir, number, sample, class_count) for number, sample in enumerate(samples)]


def _sample(run_dir: Path, number: int, sample: object, class_count: int | None) -> Misclassified:
    where = f"{MISCLASSIFIED_FILE}: sample {number}"
    if not isinstance(sample, dict):
        raise RunFileError(f"{where} is not an object")
    for key in ("index", "label", "predicted"):
        if not _is_int(sample.get(key)):
            raise RunFileError(f"{where} has no whole-number '{key}'")
    for key in ("label", "predicted"):
        if sample[key] < 0 or (class_count is not None and sample[key] >= class_count):
            raise RunFileError(
                f"{where}: '{key}' {sample[key]} is not one of the {class_count} classes"
            )
    return Misclassified(
        index=sample["index"],
        label=sample["label"],
        predicted=sample["predicted"],
        confidence=_confidence(sample.get("confidence")),
        image=_image(run_dir, sample.get("image"), where),
    )


def _confidence(value: object) -> float | None:
    if _is_int(value) or isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None
    return None


def _image(run_dir: Path, value: object, where: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RunFileError(f"{where}: 'image' must be a path or null")
    root = run_dir.resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):  # a file from elsewhere is no sample of this run
        raise RunFileError(f"{where}: image {value!r} is outside the run folder")
    return path


def _read_object(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunFileError(f"{path.name} is missing from the run folder") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RunFileError(f"{path.name} cannot be read: {_reason(err)}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise RunFileError(
            f"{path.name} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if not isinstance(data, dict):
        raise RunFileError(f"{path.name} must hold a JSON object")
    return data


def _reason(err: Exception) -> str:
    return getattr(err, "strerror", None) or str(err)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
