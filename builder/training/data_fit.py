"""Fitting data to the model: each input shaped and typed like the network's io.Input, for the
arrays the DATA forms read and for a user's own Dataset. Reshapes that could scramble samples
are refused with the two shapes, never guessed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from builder.training import data_sources as sources
from builder.training.data_sources import DataError, one_line
from builder.training.inputs import ModelInput


def sequence_length(shape: tuple[int, ...], text: str) -> int:
    if len(shape) != 1:
        raise DataError(f"--data {text!r}: token ids are sequences (N, LENGTH), not "
                        f"{fmt(('N', *shape))}")
    return shape[0]


def sample_shape(model_input: ModelInput) -> tuple:
    return tuple(model_input.shape[1:])


def check_count(given: int, inputs: list[ModelInput], text: str) -> None:
    if given == len(inputs):
        return
    names = ", ".join(i.name for i in inputs)
    hint = ("use synthetic:pairs or a python: dataset whose samples are ((a, b), label)"
            if len(inputs) == 2 else "use a python: dataset whose samples are ((inputs...), label)")
    if len(inputs) == 1:
        hint = "use a one-input form (synthetic:..., digits, npz:, csv:, folder:)"
    raise DataError(f"--data {text!r} gives {given} input(s) a sample, but the model takes "
                    f"{len(inputs)} ({names}); {hint}")


def concrete(target: tuple | None, text: str, hint: str) -> tuple[int, ...]:
    if target is None:
        raise DataError(f"--data {text!r}: the model's input shape is not known; give it with "
                        f"--input-shape (e.g. 1,8,8)")
    if not target or not all(isinstance(d, int) for d in target):
        raise DataError(f"--data {text!r}: the model input {fmt(('N', *target))} is not fully "
                        f"known; {hint}")
    return target


def image_target(target: tuple, text: str) -> tuple[str, tuple[int, int]]:
    """The Pillow mode and (width, height) that make a folder image fit the model's input."""
    dims = concrete(target, text, "images are resized to a fixed size")
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
    raise DataError(f"--data {text!r}: images cannot fit the model input {fmt(('N', *dims))} "
                    "(expected (N, C, H, W) with C 1, 3 or 4, (N, H, W) or a square (N, H*W*C))")


def fit_inputs(raw: sources.Raw, inputs: list[ModelInput] | None, text: str):
    """raw.x (a tensor, or a tuple for several inputs) shaped and typed for each model input."""
    if inputs is None:
        return raw.x
    parts = raw.x if isinstance(raw.x, tuple) else (raw.x,)
    if len(inputs) == 1 and not inputs[0].name:
        inputs = inputs * len(parts)
    check_count(len(parts), inputs, text)
    fitted = tuple(_fit(part, raw.image, model_input, text)
                   for part, model_input in zip(parts, inputs))
    return fitted[0] if len(fitted) == 1 else fitted


def _fit(x: torch.Tensor, image: bool, model_input: ModelInput, text: str) -> torch.Tensor:
    _check_dtype(x, model_input, text)
    target = sample_shape(model_input)
    sample = tuple(x.shape[1:])
    reshaped = _reshape_to(sample, target)
    if reshaped is not None:
        return x.reshape(len(x), *reshaped)
    if image and len(target) == 3 and all(isinstance(d, int) for d in target):
        return _resize_images(x, target)
    raise DataError(f"--data {text!r}: data samples have shape {fmt(('N', *sample))} "
                    f"but the model input is {fmt(('N', *target))}")


def _check_dtype(x: torch.Tensor, model_input: ModelInput, text: str) -> None:
    if model_input.is_tokens and x.is_floating_point():
        raise DataError(f"--data {text!r} gives float samples, but the model's input "
                        f"{model_input.name!r} takes token ids ({model_input.dtype}); use "
                        "synthetic:... (ids below the embedding's size) or a python: dataset")


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


class FittedDataset(Dataset):
    """The user's Dataset with each input viewed as the model's shape and typed (float, or int64
    token ids), and labels typed for the task."""

    def __init__(self, inner: Dataset, shapes: list[tuple[int, ...]], token_inputs: list[bool],
                 task: str):
        self.inner, self.shapes, self.token_inputs, self.task = inner, shapes, token_inputs, task
        self.num_classes = getattr(inner, "num_classes", None)

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index):
        x, y = self.inner[index]
        several = len(self.shapes) > 1
        parts = tuple(x) if several else (x,)
        fitted = tuple(_as_tensor(part, tokens).reshape(shape) for part, tokens, shape
                       in zip(parts, self.token_inputs, self.shapes))
        y = torch.as_tensor(y)
        y = y.long() if self.task == "classification" else y.float()
        return (fitted if several else fitted[0]), y


def fit_user_dataset(dataset: Dataset, inputs: list[ModelInput] | None, text: str) -> Dataset:
    first = _first_sample(dataset, text)
    several = len(inputs) > 1 if inputs else isinstance(first[0], tuple)
    parts = tuple(first[0]) if several else (first[0],)
    if inputs is None:
        inputs = [ModelInput(("N", *np.shape(part))) for part in parts]
    elif len(inputs) == 1 and not inputs[0].name:
        inputs = inputs * len(parts)
    check_count(len(parts), inputs, text)
    try:
        arrays = [torch.as_tensor(np.asarray(part)) for part in parts]
        y = torch.as_tensor(first[1])
    except (TypeError, ValueError, RuntimeError) as err:
        raise DataError(f"--data {text!r}: sample 0 is not numeric ({err})") from err
    shapes = []
    for array, model_input in zip(arrays, inputs):
        _check_dtype(array, model_input, text)
        shape = _reshape_to(tuple(array.shape), sample_shape(model_input))
        if shape is None:
            raise DataError(f"--data {text!r}: data samples have shape "
                            f"{fmt(('N', *array.shape))} but the model input is "
                            f"{fmt(('N', *sample_shape(model_input)))}")
        shapes.append(shape)
    task = "regression" if y.is_floating_point() else "classification"
    return FittedDataset(dataset, shapes, [i.is_tokens for i in inputs], task)


def _first_sample(dataset: Dataset, text: str) -> tuple:
    """Sample 0, read up front so a mismatch is reported now, not in the middle of epoch one."""
    try:
        size = len(dataset)
        first = dataset[0] if size else None
    except Exception as err:  # the user's __len__/__getitem__
        raise DataError(f"--data {text!r}: reading sample 0 raised {type(err).__name__}: "
                        f"{one_line(err)}") from err
    if first is None:
        raise DataError(f"--data {text!r}: the dataset is empty")
    if not isinstance(first, (tuple, list)) or len(first) != 2:
        raise DataError(f"--data {text!r}: a sample must be an (input, label) pair, "
                        f"got {type(first).__name__}")
    return tuple(first)


def _as_tensor(value, tokens: bool) -> torch.Tensor:
    tensor = value if torch.is_tensor(value) else torch.as_tensor(np.asarray(value))
    return tensor.long() if tokens else tensor.float()


def fmt(shape: Sequence) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"

