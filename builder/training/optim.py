"""Optimisers and learning-rate schedules by the names the flags use."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def make_optimizer(name: str, params: Iterable[nn.Parameter], lr: float,
                   weight_decay: float = 0.0, device: torch.device | None = None,
                   betas: tuple[float, float] | None = None) -> torch.optim.Optimizer:
    # Fused kernels: one launch for all parameters on a GPU (the plain loop's foreach on CPU).
    fused = {"fused": True} if device is not None and device.type == "cuda" else {}
    params = list(params)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay,
                                 **({"betas": betas} if betas else {}), **fused)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay,
                                **({"betas": betas} if betas else {}), **fused)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay,
                               **fused)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(name: str, optimizer: torch.optim.Optimizer, lr: float, total_steps: int,
                   steps_per_epoch: int):
    """A scheduler stepped once per optimiser step, or None for a constant learning rate."""
    total_steps = max(1, total_steps)
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "step":
        # A tenth of the rate after each third of the run, as the classic ImageNet schedules do.
        step_size = max(1, total_steps // 3, steps_per_epoch if total_steps < 3 else 0)
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.1)
    return None


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])
