"""Checkpoints: a plain dict of state dicts, the loop's position and every RNG state.

With all of that restored, a resumed run is bitwise equal to one that never stopped (on CPU; on a
GPU cuDNN's own choices may differ unless `--deterministic`). Files are written to a temp file
and renamed, so a kill while saving leaves the previous checkpoint whole.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file."""


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        devices = min(len(state["cuda"]), torch.cuda.device_count())
        for index in range(devices):
            torch.cuda.set_rng_state(state["cuda"][index], index)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` to `path` atomically (temp file in the same folder, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            torch.save({"version": CHECKPOINT_VERSION, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def copy_checkpoint(source: Path, path: Path) -> None:
    """`source` copied to `path` atomically: a file copy instead of a second serialisation."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, temp)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint at `path`, read without running code from it (weights_only)."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        # Python and NumPy RNG states are tuples of plain values and an ndarray: allow just those.
        with torch.serialization.safe_globals(_rng_globals()):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: torch raises many kinds
        line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f"{path}: not a readable checkpoint ({line[:200]})") from None
    if not isinstance(state, dict) or state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: not a TorchCanvas checkpoint (version "
                              f"{state.get('version') if isinstance(state, dict) else '?'})")
    return state


def _rng_globals() -> list:
    # numpy's pickle helper for arrays; numpy 2 moved it to numpy._core.
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:
        from numpy.core.multiarray import _reconstruct
    return [np.ndarray, np.dtype, _reconstruct, type(np.dtype("uint32"))]
