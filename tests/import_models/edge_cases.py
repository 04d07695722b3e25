"""Small models for what import must get right at the edges."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class SharedActivation(nn.Module):
    """One ReLU module called twice."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.fc2 = nn.Linear(4, 4)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(x))))


class Scaled(nn.Module):
    """Uses math at module level and a data-dependent branch: kept, with `import math`."""

    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        y = self.fc(x) / math.sqrt(self.fc.in_features)
        if y.sum() > 0:
            return y
        return -y


class HoldsUnused(nn.Module):
    """Modules it never calls: a Sequential, a class of its own, a plain layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.spare = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
        self.ghost = Scaled(dim=5)
        self.extra = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return self.fc(x)


class UsesScaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Scaled(dim=4)

    def forward(self, x):
        return self.inner(x)


class WithDict(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 2)})

    def forward(self, x):
        return self.heads["a"](x) + self.heads["b"](x)


class HoldsDict(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = WithDict()

    def forward(self, x):
        return self.body(x) * 2


class AlwaysDropout(nn.Module):
    """F.dropout left at training=True: it drops even in evaluation (kept as written)."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p)


class HoldsAlwaysDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = AlwaysDropout(p=0.3)

    def forward(self, x):
        return self.drop(self.fc(x))


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        for _ in range(int(x.abs().sum().item()) % 2 + 1):
            x = self.fc(x)
        return x


class ReadsTheBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)

    def forward(self, x):
        x = self.conv(x)
        return x.reshape(x.shape[0], 3, -1).mean(-1)


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)

    def forward(self, ids):
        return self.embed(ids).sum(1)


def scalar_parameter():
    module = nn.Module()
    module.weight = nn.Parameter(torch.ones(2))
    return module
