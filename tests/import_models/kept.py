"""Classes torch.fx cannot trace, which import keeps as their source: control flow on tensor
values, and a branch on self.training that changes the graph."""

import torch
from torch import nn


class ClampIfLarge(nn.Module):
    """Data-dependent control flow: the branch depends on the tensor's values."""

    def __init__(self, channels, limit=1.0):
        super().__init__()
        self.proj = nn.Linear(channels, channels)
        self.limit = limit

    def forward(self, x):
        y = self.proj(x)
        if y.abs().max() > self.limit:
            y = y.clamp(-self.limit, self.limit)
        return y


class NoisyInTraining(nn.Module):
    """Adds noise only while training: the graph itself differs between the two modes."""

    def __init__(self, std=0.5):
        super().__init__()
        self.std = std

    def forward(self, x):
        if self.training:
            return x + torch.randn_like(x) * self.std
        return x


class KeptParts(nn.Module):
    def __init__(self, channels=6):
        super().__init__()
        self.inp = nn.Linear(4, channels)
        self.clamp = ClampIfLarge(channels, limit=0.5)
        self.noise = NoisyInTraining(0.1)
        self.out = nn.Linear(channels, 3)

    def forward(self, x):
        return self.out(self.noise(self.clamp(torch.relu(self.inp(x)))))
