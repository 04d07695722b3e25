"""Readers for each DATA form. Each returns raw samples as tensors (or the user's Dataset); fitting
them to the model's input shape is data.py's job, so every source is shaped the same way there."""

from __future__ import annotations

import csv
import importlib
import importlib.util
import math
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset


class DataError(Exception):
    """A dataset that cannot be used; the message is one line saying what and where."""


@dataclass
class Raw:
    """Samples as read: x is (n, *sample_shape) float32 (int64 for token ids), or a tuple of
    such tensors for a model with several inputs; y is int64 classes or float targets. `image`
    marks sources whose samples are (C, H, W) pictures that may be resized to fit."""

    x: torch.Tensor | tuple[torch.Tensor, ...]
    y: torch.Tensor
    image: bool = False
    classes: list[str] | None = None  # the class names, where the source has them


IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_digits() -> Raw:
    # Imported here so that the runner's other forms work without scikit-learn installed.
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DataError("DATA 'digits' needs scikit-learn: pip install scikit-learn") from err
    bunch = load_digits()
    # Pixels are 0..16 in the bundled set; [0, 1] is what a model's initialisation expects.
    x = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    return Raw(x, torch.from_numpy(bunch.target.astype(np.int64)), image=True)


def read_synthetic(shape: tuple[int, ...], n: int, seed: int, classes: int | None,
                   targets: int | None) -> Raw:
    gen = torch.Generator().manual_seed(seed)
    if classes is not None:
        # One prototype per class plus noise: learnable, so a sanity run can reach a low loss.
        centres = torch.randn((classes, *shape), generator=gen)
        y = torch.randint(0, classes, (n,), generator=gen)
        x = centres[y] + 0.5 * torch.randn((n, *shape), generator=gen)
        return Raw(x, y)
    # A fixed linear map plus a little noise: a model that can fit a line can fit this.
    weights = torch.randn((math.prod(shape), targets), generator=gen) / math.sqrt(math.prod(shape))
    x = torch.randn((n, *shape), generator=gen)
    y = x.reshape(n, -1) @ weights + 0.01 * torch.randn((n, targets), generator=gen)
    return Raw(x, y)


def _labels(y: np.ndarray, where: str) -> torch.Tensor:
    """Integer labels are classes (int64, must be >= 0); anything else is a regression target."""
    if np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_):
        if y.size and y.min() < 0:
            raise DataError(f"{where}: class labels must be >= 0, found {int(y.min())}")
        return torch.from_numpy(y.astype(np.int64))
    if np.issubdtype(y.dtype, np.floating):
        return torch.from_numpy(y.astype(np.float32))
    raise DataError(f"{where}: y must be numeric, found dtype {y.dtype}")


def read_npz(path: Path) -> Raw:
    _require_file(path)
    try:
        # allow_pickle=False: loading data must never run code from the file.
        with np.load(path, allow_pickle=False) as arrays:
            missing = [k for k in ("x", "y") if k not in arrays.files]
            if missing:
                raise DataError(f"{path}: npz has no array {missing[0]!r} "
                                f"(it holds {', '.join(arrays.files) or 'nothing'}); "
                                "save it with numpy.savez(path, x=..., y=...)")
            x, y = arrays["x"], arrays["y"]
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: not a readable npz file ({one_line(err)})") from err
    if x.ndim < 1 or len(x) != len(y):
        raise DataError(f"{path}: x has {len(x) if x.ndim else 0} samples but y has {len(y)}")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{path}: x must be numeric, found dtype {x.dtype}")
    return Raw(torch.from_numpy(x.astype(np.float32)), _labels(y, str(path)))


def read_csv(path: Path, target: str | None, task: str | None) -> Raw:
    _require_file(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
        delimiter = _delimiter(text)
        rows = [row for row in csv.reader(text.splitlines(), delimiter=delimiter,
                                          skipinitialspace=True) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{path}: cannot read csv ({one_line(err)})") from err
    if not rows:
        raise DataError(f"{path}: csv is empty")
    # numpy.savetxt writes its header as '# a,b,c'; a first row that is not all numbers is a header.
    header, first_line = None, 1
    if rows[0][0].startswith("#") or not all(_is_number(c) for c in rows[0]):
        header = [c.strip() for c in rows[0]]
        header[0] = header[0].lstrip("#").strip()
        if not header[0] and len(header) > 1:
            header = header[1:]  # '# u v w' split on spaces leaves the '#' alone in a cell
        rows, first_line = rows[1:], 2
    if not rows:
        raise DataError(f"{path}: csv has a header but no data rows")
    width = len(header or rows[0])
    names = header or [str(i) for i in range(width)]
    values = np.empty((len(rows), width), dtype=np.float64)
    for i, row in enumerate(rows):
        line = first_line + i
        if len(row) != width:
            raise DataError(f"{path}:{line}: row has {len(row)} columns, expected {width}")
        for j, cell in enumerate(row):
            if not _is_number(cell):
                raise DataError(f"{path}:{line}: column {names[j]!r} is not numeric ({cell!r})")
            values[i, j] = float(cell)
    col = _target_column(target, names, path)
    y = values[:, col]
    x = np.delete(values, col, axis=1).astype(np.float32)
    return Raw(torch.from_numpy(x), _csv_labels(y, task, path))


def _delimiter(text: str) -> str:
    """Comma, tab or semicolon when the first data line uses one; else spaces, which is what
    numpy.savetxt writes unless told otherwise."""
    line = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")
    return next((d for d in ",\t;" if d in line), " ")


def _csv_labels(y: np.ndarray, task: str | None, path: Path) -> torch.Tensor:
    whole = bool(np.all(y == np.round(y)))
    if task is None:
        task = "classification" if whole else "regression"
    if task == "regression":
        return torch.from_numpy(y.astype(np.float32)).unsqueeze(1)
    if not whole:
        raise DataError(f"{path}: task=classification needs whole-number targets")
    # Labels such as 1..3 or 0/5/9 become class indices 0..C-1, which cross-entropy requires.
    _, index = np.unique(y, return_inverse=True)
    return torch.from_numpy(index.astype(np.int64))


def _target_column(target: str | None, names: list[str], path: Path) -> int:
    if target is None:
        return len(names) - 1
    if target in names:
        return names.index(target)
    try:
        col = int(target)
    except ValueError:
        raise DataError(f"{path}: no column {target!r} (columns: {', '.join(names)})") from None
    if not -len(names) <= col < len(names):
        raise DataError(f"{path}: target column {col} out of range (it has {len(names)})")
    return col % len(names)


def read_folder(path: Path, mode: str, size: tuple[int, int]) -> Raw:
    """One subfolder per class (sorted names are the class indices), every image converted to
    `mode` and resized to `size` (width, height) so that mixed files stack into one tensor."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_dir():
        raise DataError(f"{path}: no such folder")
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{path}: folder is empty (expected one subfolder of images per class)")
    xs, ys = [], []
    for index, folder in enumerate(classes):
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(f"{folder}: class folder has no images")
        for file in files:
            try:
                with Image.open(file) as image:
                    pixels = np.asarray(image.convert(mode).resize(size, Image.BILINEAR))
            except (OSError, UnidentifiedImageError) as err:
                raise DataError(f"{file}: cannot read image ({one_line(err)})") from err
            xs.append(pixels.reshape(size[1], size[0], -1).transpose(2, 0, 1))
            ys.append(index)
    x = torch.from_numpy(np.stack(xs).astype(np.float32) / 255.0)
    return Raw(x, torch.tensor(ys, dtype=torch.int64), image=True,
               classes=[folder.name for folder in classes])


def call_factory(target: str, factory: str) -> Dataset:
    module = _import_target(target)
    func = getattr(module, factory, None)
    if not callable(func):
        raise DataError(f"python:{target}:{factory}: {target} has no callable {factory!r}")
    try:
        dataset = func()
    except Exception as err:  # the user's code: any failure becomes one line, not a traceback
        raise DataError(f"python:{target}:{factory}: {factory}() raised "
                        f"{type(err).__name__}: {one_line(err)}") from err
    if not isinstance(dataset, Dataset) or isinstance(dataset, IterableDataset):
        raise DataError(f"python:{target}:{factory}: {factory}() returned "
                        f"{type(dataset).__name__}, not a map-style torch.utils.data.Dataset")
    return dataset


def _import_target(target: str):
    try:
        if target.endswith(".py") or "/" in target or "\\" in target:
            file = Path(target)
            _require_file(file)
            if file.suffix != ".py":
                raise DataError(f"python:{target}: not a Python file (expected FILE.py)")
            spec = importlib.util.spec_from_file_location(f"_torchcanvas_data_{file.stem}", file)
            module = importlib.util.module_from_spec(spec)
            # Registered, and its folder importable, as `python FILE.py` would have it: the file
            # may import its neighbours, and its classes must pickle for DataLoader workers.
            sys.modules[spec.name] = module
            if str(file.resolve().parent) not in sys.path:
                sys.path.append(str(file.resolve().parent))
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[spec.name]
                raise
            return module
        # "importable from the current folder", as `python -m` would see it.
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        return importlib.import_module(target)
    except DataError:
        raise
    except Exception as err:  # a syntax error or failing import in the user's module
        raise DataError(f"python:{target}: cannot import ({type(err).__name__}: "
                        f"{one_line(err)})") from err


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise DataError(f"{path}: no such file")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
