"""Errors raised by the user's own model code, said in one line with where they happened."""

from __future__ import annotations

import traceback
from pathlib import Path

import torch


class ModelFailed(Exception):
    """The model's own code raised (exit 1)."""


def model_failure(doing: str, err: Exception) -> Exception:
    """`err` from the model's code as a ModelFailed; CUDA running out of memory stays itself,
    so that it gets its own advice."""
    if isinstance(err, torch.cuda.OutOfMemoryError):
        return err
    return ModelFailed(f"the model raised {doing}: {one_line(err)}")


def one_line(err: BaseException) -> str:
    """`Kind: first line of the message (file.py:line)`, the line being the innermost frame
    outside torch and installed packages: the user's code."""
    text = (str(err).strip().splitlines() or [""])[0][:300]
    frames = [f for f in traceback.extract_tb(err.__traceback__)
              if "site-packages" not in f.filename and "/torch/" not in f.filename
              and "/builder/training/" not in f.filename]
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(err).__name__}: {text}{where}"
