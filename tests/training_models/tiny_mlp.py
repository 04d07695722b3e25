"""Tiny models for the distributed tests: a small MLP over 1x8x8 inputs and ten classes, and
one that raises on the worker with RANK 1 partway through a run."""

import os

from torch import nn


class TinyMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x)


class FailsOnRankOne(TinyMLP):
    """Raises at the third training step on RANK 1. The forwards counted are those in training
    mode: DDP's probe for unused parameters, then one per step."""

    def __init__(self):
        super().__init__()
        self.training_calls = 0

    def forward(self, x):
        if self.training and os.environ.get("RANK") == "1":
            self.training_calls += 1
            if self.training_calls == 4:
                raise RuntimeError("rank one gives up")
        return super().forward(x)
