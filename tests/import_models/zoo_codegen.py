"""Models written the way model zoos write them, each failing the round trip in its own way
before codegen learned better: units held under names of their own, blocks kept as source
inside drawn blocks (and returning ``(x, None)``), per-instance padding read in forward."""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


# -- named units: unit1 ... unit4, block_a ... block_c ----------------------------------------
class Unit(nn.Module):
    """A residual unit that keeps its input's shape: three or more in a row fold well."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))) + x


class NamedUnits(nn.Module):
    """The same unit under names the author chose (an OrderedDict sequential, attributes),
    and in a real list, whose weights are saved as ``layers.0``."""

    def __init__(self, channels=4):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 1)
        self.stage = nn.Sequential(OrderedDict(
            (f"unit{i}", Unit(channels)) for i in range(1, 5)))
        self.block_a = Unit(channels)
        self.block_b = Unit(channels)
        self.block_c = Unit(channels)
        self.layers = nn.ModuleList(Unit(channels) for _ in range(3))
        self.head = nn.Linear(channels, 2)

    def forward(self, x):
        x = self.stage(self.stem(x))
        x = self.block_c(self.block_b(self.block_a(x)))
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(dim=(2, 3)))


# -- classes kept as source inside drawn ones ----------------------------------------------------
class Gate(nn.Module):
    """Control flow on a tensor's values: torch.fx cannot trace it, so it is kept."""

    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return -x


class GatedStage(nn.Module):
    """Drawn, with a kept class inside: its MACs are partly unknown."""

    def __init__(self, width):
        super().__init__()
        self.pre = nn.Linear(width, width)
        self.gate = Gate(width)

    def forward(self, x):
        return self.gate(self.pre(x))


class WithAux(nn.Module):
    """Kept as source, and returns its tensor beside a None (an auxiliary loss it only
    computes in some configurations)."""

    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        if x.mean() > 0:
            return self.fc(x), None
        return self.fc(-x), None


class NestedKept(nn.Module):
    def __init__(self, width=6):
        super().__init__()
        self.stage = GatedStage(width)
        self.aux = WithAux(width)
        self.second = WithAux(width)
        self.refine = nn.ModuleList(WithAux(width) for _ in range(3))
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        y, _ = self.aux(self.stage(x))
        y = self.second(y)[0]
        for layer in self.refine:
            y, _ = layer(y)
        return self.head(y)


# -- an op's parameter that differs between instances ----------------------------------------
class PadConv(nn.Module):
    """``F.pad`` by an amount, and a slope, given per instance: both become arguments of the
    block, which forward reads. ``pad`` is also the name of a module it holds."""

    def __init__(self, channels, amount, slope):
        super().__init__()
        self.amount = amount
        self.slope = slope
        self.pad = nn.ZeroPad2d(1)
        self.conv = nn.Conv2d(channels, channels, 3)

    def forward(self, x):
        x = F.pad(x, self.amount, mode="replicate")
        return F.leaky_relu(self.conv(self.pad(x)), self.slope)


class PaddedPair(nn.Module):
    def __init__(self, channels=3):
        super().__init__()
        self.first = PadConv(channels, (1, 1, 1, 1), 0.1)
        self.second = PadConv(channels, (2, 0, 0, 1), 0.3)

    def forward(self, x):
        return self.second(self.first(x))
