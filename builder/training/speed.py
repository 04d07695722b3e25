"""What makes a GPU run fast, in one place: TF32, cuDNN autotuning, autocast with a grad scaler,
channels_last for conv nets, torch.compile, and timing with CUDA events after a warm-up.

On CPU most of this is a no-op, so one loop serves both.
"""

from __future__ import annotations

import contextlib
import os
import time

import torch
from torch import nn

AUTOCAST_DTYPES = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}
WARMUP_STEPS = 3


class PrecisionError(Exception):
    """A precision this device cannot run (exit 2)."""


def configure_backends(device: torch.device, deterministic: bool) -> None:
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic; must be set before its first use.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = not deterministic
        torch.backends.cudnn.deterministic = deterministic


def autocast(device: torch.device, precision: str):
    """The forward pass's autocast context (a no-op for 32-true)."""
    dtype = AUTOCAST_DTYPES.get(precision)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def check_precision(device: torch.device, precision: str) -> None:
    if precision == "16-mixed" and device.type != "cuda":
        raise PrecisionError("--precision 16-mixed needs a GPU; use bf16-mixed or 32-true on CPU")
    if precision == "bf16-mixed" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise PrecisionError("--precision bf16-mixed: this GPU has no bfloat16; use 16-mixed")


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """A scaler that only scales for float16 (bf16 has float32's range and needs none)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "16-mixed")


def uses_convolutions(model: nn.Module) -> bool:
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    model = model.to(device)
    if device.type == "cuda" and uses_convolutions(model):
        model = model.to(memory_format=torch.channels_last)
    return model


def to_input_format(x, model_is_channels_last: bool):
    """x (a tensor, or a tuple of them) in the memory format the model was put in."""
    if isinstance(x, tuple):
        return tuple(to_input_format(part, model_is_channels_last) for part in x)
    if model_is_channels_last and x.dim() == 4 and x.is_floating_point():
        return x.contiguous(memory_format=torch.channels_last)
    return x


class EpochTimer:
    """Samples per second over an epoch, leaving out the first steps (compilation, cuDNN
    autotuning, allocator warm-up). CUDA events time the GPU's work, not the host's queueing."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.steps = 0
        self.samples = 0
        self.start_wall = time.perf_counter()
        self._start = None

    def batch_done(self, samples: int) -> None:
        self.steps += 1
        if self.steps == WARMUP_STEPS:
            self._start = self._now()
        elif self.steps > WARMUP_STEPS:
            self.samples += samples

    def _now(self):
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.start_wall

    def samples_per_s(self, all_samples: int) -> float:
        """Throughput after warm-up; for an epoch too short to warm up, over the whole epoch."""
        if self._start is None or self.samples == 0:
            elapsed = self.seconds()
            return all_samples / elapsed if elapsed > 0 else 0.0
        end = self._now()
        if self.cuda:
            end.synchronize()
            elapsed = self._start.elapsed_time(end) / 1000.0
        else:
            elapsed = end - self._start
        return self.samples / elapsed if elapsed > 0 else 0.0
