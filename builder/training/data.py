"""DATA: parse the `--data` text, load it shaped for the model's input, split it by seed.

Forms (the text after `--data`):

    digits                                  scikit-learn's bundled 8x8 digits, scaled to [0, 1]
    synthetic:shape=3,32,32,classes=10,n=5000[,seed=0]    classification (class prototypes + noise)
    synthetic:shape=8,targets=1,n=500[,seed=0]            regression (a linear map + noise)
    npz:PATH                                arrays `x` and `y` (integer y: classes, float: targets)
    csv:PATH[:target=COL][,task=classification|regression]
    folder:PATH                             one subfolder per class, read with Pillow
    python:MODULE:FACTORY | python:FILE.py:FACTORY    FACTORY() returns a map-style Dataset

`shape` may be left out of synthetic to take the model's own input shape. Every failure is a
DataError whose message is one line saying what and where.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset, Subset, TensorDataset

from builder.training import data_sources as sources
from builder.training.config import DATA_FORMS
from builder.training.data_sources import DataError

__all__ = ["DataError", "DataSpec", "parse_data", "load_dataset", "split", "FORMS"]

FORMS = DATA_FORMS
SYNTHETIC_KEYS = ("shape", "classes", "targets", "n", "seed")
CSV_KEYS = ("target", "task")
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class DataSpec:
    """A parsed DATA text. `options` holds the form's keys already converted to their types."""

    kind: str
    path: Path | None = None
    options: dict = field(default_factory=dict)
    text: str = ""


# --- parsing -----------------------------------------------------------------------------------


def parse_data(text: str) -> DataSpec:
    kind, _, rest = text.strip().partition(":")
    parsers = {"digits": _parse_digits, "synthetic": _parse_synthetic, "npz": _parse_path,
               "csv": _parse_csv, "folder": _parse_path, "python": _parse_python}
    if kind not in parsers:
        raise DataError(f"--data {text!r}: unknown form {kind!r} (expected {FORMS})")
    return parsers[kind](kind, rest, text)


def _parse_digits(kind: str, rest: str, text: str) -> DataSpec:
    if rest:
        raise DataError(f"--data {text!r}: digits takes no options")
    return DataSpec(kind, text=text)


def _parse_path(kind: str, rest: str, text: str) -> DataSpec:
    if not rest:
        raise DataError(f"--data {text!r}: {kind} needs a path ({kind}:PATH)")
    return DataSpec(kind, path=Path(rest), text=text)


def _parse_csv(kind: str, rest: str, text: str) -> DataSpec:
    # Options trail after the last ':' only when they look like key=value, so a Windows drive
    # letter (C:\data.csv) or a ':' in a folder name stays part of the path.
    path, options = rest, {}
    head, sep, tail = rest.rpartition(":")
    if sep and re.match(r"^\w+=", tail):
        path, options = head, _key_values(tail, CSV_KEYS, text)
    if options.get("task") not in (None, *TASKS):
        raise DataError(f"--data {text!r}: task must be classification or regression")
    spec = _parse_path(kind, path, text)
    return DataSpec(kind, path=spec.path, options=options, text=text)


def _parse_python(kind: str, rest: str, text: str) -> DataSpec:
    target, sep, factory = rest.rpartition(":")
    if not sep or not target or not factory.isidentifier():
        raise DataError(f"--data {text!r}: expected python:MODULE:FACTORY "
                        "or python:FILE.py:FACTORY")
    return DataSpec(kind, options={"target": target, "factory": factory}, text=text)


def _parse_synthetic(kind: str, rest: str, text: str) -> DataSpec:
    raw = _key_values(rest, SYNTHETIC_KEYS, text) if rest else {}
    options = {"n": 1000, "seed": 0}
    for key, value in raw.items():
        try:
            numbers = tuple(int(v) for v in value.split(","))
        except ValueError:
            raise DataError(f"--data {text!r}: {key}={value!r} is not a whole number") from None
        if key != "shape" and len(numbers) != 1:
            raise DataError(f"--data {text!r}: {key} takes one number, got {value!r}")
        low = 0 if key == "seed" else 1
        if any(v < low for v in numbers):
            raise DataError(f"--data {text!r}: {key}={value} must be >= {low}")
        options[key] = numbers if key == "shape" else numbers[0]
    if "classes" in options and "targets" in options:
        raise DataError(f"--data {text!r}: give classes= (classification) or targets= "
                        "(regression), not both")
    if "targets" not in options:
        options.setdefault("classes", 10)
    return DataSpec(kind, options=options, text=text)


def _key_values(text: str, keys: Sequence[str], whole: str) -> dict[str, str]:
    """'shape=3,32,32,classes=10' -> {'shape': '3,32,32', 'classes': '10'}: a token without '='
    continues the previous key's value, which is how a shape's commas read naturally."""
    result: dict[str, str] = {}
    key = None
    for token in text.split(","):
        name, eq, value = token.partition("=")
        if eq:
            key = name.strip()
            if key not in keys:
                raise DataError(f"--data {whole!r}: unknown key {key!r} (keys: {', '.join(keys)})")
            if key in result:
                raise DataError(f"--data {whole!r}: key {key!r} given twice")
            result[key] = value.strip()
        elif key is None or not token.strip():
            raise DataError(f"--data {whole!r}: expected key=value, got {token!r}")
        else:
            result[key] += "," + token.strip()
    return result


# --- loading and fitting -----------------------------------------------------------------------


class ArrayDataset(TensorDataset):
    """A TensorDataset that also says what it is for, so the loop can pick the loss and metric."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, task: str, num_classes: int | None):
        super().__init__(x, y)
        self.task = task
        self.num_classes = num_classes


def load_dataset(spec: DataSpec, input_shape: Sequence[int | str] | None) -> Dataset:
    """Load `spec` with every input shaped like `input_shape` minus its leading batch dim (the
    shape of the network's io.Input, e.g. ['N', 1, 8, 8]); a string dim accepts any size.
    None (a model given as a SPEC, without --input-shape): samples keep the shape they have."""
    target = tuple(input_shape[1:]) if input_shape is not None else None
    if spec.kind == "python":
        return _fit_user_dataset(sources.call_factory(**spec.options), target, spec.text)
    raw = _read(spec, target)
    x = _fit(raw, target, spec.text)
    if raw.y.dtype == torch.int64:
        classes = int(raw.y.max()) + 1 if len(raw.y) else 0
        return ArrayDataset(x, raw.y, "classification", classes)
    return ArrayDataset(x, raw.y.float(), "regression", None)


def _read(spec: DataSpec, target: tuple) -> sources.Raw:
    opts = spec.options
    if spec.kind == "digits":
        return sources.read_digits()
    if spec.kind == "synthetic":
        shape = opts.get("shape") or _concrete(target, spec.text, "give shape=...")
        return sources.read_synthetic(shape, opts["n"], opts["seed"], opts.get("classes"),
                                      opts.get("targets"))
    if spec.kind == "npz":
        return sources.read_npz(spec.path)
    if spec.kind == "csv":
        return sources.read_csv(spec.path, opts.get("target"), opts.get("task"))
    mode, size = _image_target(target, spec.text)
    return sources.read_folder(spec.path, mode, size)


def _concrete(target: tuple | None, text: str, hint: str) -> tuple[int, ...]:
    if target is None:
        raise DataError(f"--data {text!r}: the model's input shape is not known; give it with "
                        f"--input-shape (e.g. 1,8,8)")
    if not target or not all(isinstance(d, int) for d in target):
        raise DataError(f"--data {text!r}: the model input {_fmt(('N', *target))} is not fully "
                        f"known; {hint}")
    return target


def _image_target(target: tuple, text: str) -> tuple[str, tuple[int, int]]:
    """The Pillow mode and (width, height) that make a folder image fit the model's input."""
    dims = _concrete(target, text, "images are resized to a fixed size")
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if len(dims) == 3 and dims[0] in modes:
        return modes[dims[0]], (dims[2], dims[1])
    if len(dims) == 2:
        return "L", (dims[1], dims[0])
    if len(dims) == 1:
        # A flat input (an MLP): a square grey or colour image of that many values.
        for channels, mode in ((1, "L"), (3, "RGB")):
            side = math.isqrt(dims[0] // channels)
            if side * side * channels == dims[0]:
                return mode, (side, side)
    raise DataError(f"--data {text!r}: images cannot fit the model input {_fmt(('N', *dims))} "
                    "(expected (N, C, H, W) with C 1, 3 or 4, (N, H, W) or a square (N, H*W*C))")


def _fit(raw: sources.Raw, target: tuple, text: str) -> torch.Tensor:
    x = raw.x
    sample = tuple(x.shape[1:])
    if target is None:
        return x
    reshaped = _reshape_to(sample, target)
    if reshaped is not None:
        return x.reshape(len(x), *reshaped)
    if raw.image and len(target) == 3 and all(isinstance(d, int) for d in target):
        return _resize_images(x, target)
    raise DataError(f"--data {text!r}: data samples have shape {_fmt(('N', *sample))} "
                    f"but the model input is {_fmt(('N', *target))}")


def _reshape_to(sample: tuple[int, ...], target: tuple) -> tuple[int, ...] | None:
    """The shape to view a sample as, or None. Only reshapes that cannot scramble data are taken:
    equal shapes, flattening to or from one dim, and adding or dropping size-1 dims. (3, 32, 32)
    is never silently reread as (32, 32, 3)."""
    if len(sample) == len(target) and all(_dim_ok(s, t) for s, t in zip(sample, target)):
        return sample
    if not all(isinstance(d, int) for d in target) or math.prod(sample) != math.prod(target):
        return None
    squeezed = lambda dims: tuple(d for d in dims if d != 1)  # noqa: E731
    if len(sample) == 1 or len(target) == 1 or squeezed(sample) == squeezed(target):
        return target
    return None


def _dim_ok(size: int, want: int | str) -> bool:
    return isinstance(want, str) or size == want


def _resize_images(x: torch.Tensor, target: tuple[int, int, int]) -> torch.Tensor:
    channels, height, width = target
    have = x.shape[1]
    if have == 4:
        x, have = x[:, :3], 3  # alpha carries no class information
    if have == 3 and channels == 1:
        # ITU-R 601 luma, the same weights Pillow's convert("L") uses.
        x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif have == 1 and channels in (3, 4):
        x = x.expand(-1, channels, -1, -1)
    elif have != channels:
        raise DataError(f"images with {have} channels cannot become {channels} channels")
    if tuple(x.shape[2:]) != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False,
                          antialias=True)
    return x.contiguous()


class _FittedDataset(Dataset):
    """The user's Dataset with each input viewed as the model's shape and labels typed."""

    def __init__(self, inner: Dataset, shape: tuple[int, ...], task: str):
        self.inner, self.shape, self.task = inner, shape, task
        self.num_classes = getattr(inner, "num_classes", None)

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index):
        x, y = self.inner[index]
        x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float()
        y = torch.as_tensor(y)
        y = y.long() if self.task == "classification" else y.float()
        return x.reshape(self.shape), y


def _fit_user_dataset(dataset: Dataset, target: tuple, text: str) -> Dataset:
    # One sample is read up front so a mismatch is reported now, not in the middle of epoch one.
    try:
        size = len(dataset)
        first = dataset[0] if size else None
    except Exception as err:  # the user's __len__/__getitem__
        raise DataError(f"--data {text!r}: reading sample 0 raised {type(err).__name__}: "
                        f"{sources._one_line(err)}") from err
    if first is None:
        raise DataError(f"--data {text!r}: the dataset is empty")
    if not isinstance(first, (tuple, list)) or len(first) != 2:
        raise DataError(f"--data {text!r}: a sample must be an (input, label) pair, "
                        f"got {type(first).__name__}")
    try:
        x, y = torch.as_tensor(np.asarray(first[0])), torch.as_tensor(first[1])
    except (TypeError, ValueError, RuntimeError) as err:
        raise DataError(f"--data {text!r}: sample 0 is not numeric ({err})") from err
    shape = tuple(x.shape) if target is None else _reshape_to(tuple(x.shape), target)
    if shape is None:
        raise DataError(f"--data {text!r}: data samples have shape {_fmt(('N', *x.shape))} "
                        f"but the model input is {_fmt(('N', *target))}")
    task = "regression" if y.is_floating_point() else "classification"
    return _FittedDataset(dataset, shape, task)


def _fmt(shape: Sequence) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


# --- splitting ---------------------------------------------------------------------------------


def split(dataset: Dataset, seed: int,
          fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> tuple[Subset, Subset, Subset]:
    """Train/val/test subsets; the same seed gives the same samples in each, on any machine."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise DataError(f"split fractions must be three non-negative numbers summing to 1, "
                        f"got {tuple(fractions)}")
    if len(dataset) == 0:
        raise DataError("cannot split an empty dataset")
    # Its own generator, so the split does not depend on (or disturb) the global RNG state.
    # (Not random_split: it warns on an empty part, and a 1.0/0/0 split is a fair thing to ask.)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val, n_test = (math.floor(len(dataset) * f) for f in fractions[1:])
    n_train = len(dataset) - n_val - n_test  # rounding leftovers go to training
    train = Subset(dataset, order[:n_train])
    val = Subset(dataset, order[n_train:n_train + n_val])
    test = Subset(dataset, order[n_train + n_val:])
    if len(train) == 0:
        raise DataError(f"{len(dataset)} samples are too few for a training split of "
                        f"{fractions[0]}")
    return train, val, test
