"""Small models torch.fx cannot trace, one per kind of failure, for the export tracer.

Each is written the way third-party code is: a config object read in forward, ``**kwargs``
passed along, branches on a tensor's rank or size, results that are dataclasses, dicts or
nested tuples, grandchildren called through a holder, tensors made from numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class Config:
    """A configuration object, as libraries pass one around (not a tensor, not a number)."""

    def __init__(self, width: int = 8, use_norm: bool = True, scale: float = 1.0):
        self.width = width
        self.use_norm = use_norm
        self.scale = scale


class ConfigBranch(nn.Module):
    """Branches on its config, and on a flag that may come in through ``**kwargs``."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.fc = nn.Linear(config.width, config.width)
        self.norm = nn.LayerNorm(config.width)

    def forward(self, x, **kwargs):
        x = self.fc(x)
        if self.config.use_norm:
            x = self.norm(x)
        scale = kwargs.get("scale", self.config.scale)
        if scale != 1.0:
            x = x * scale
        return x


class RankBranch(nn.Module):
    """``if x.dim() == 3`` and a size read: torch.fx cannot branch on either."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.widen = nn.Linear(width // 2, width)

    def forward(self, x):
        if x.dim() == 3:
            x = x.mean(1)
        if x.size(-1) != self.fc.in_features:
            x = self.widen(x)
        return self.fc(x).view(x.size(0), 2, -1)


class Gated(nn.Module):
    """Takes its mask and scale through ``**kwargs``."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x, **kwargs):
        return self.fc(x).masked_fill(kwargs["mask"], 0.0) * kwargs.get("scale", 1.0)


class PassesKwargs(nn.Module):
    """Hands a tensor and a number on to its child as keywords."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.gated = Gated(width)

    def forward(self, x, mask):
        return self.gated(x, mask=mask, scale=2.0)


@dataclass
class Pair:
    """A result type pytree has never heard of."""

    first: torch.Tensor
    second: torch.Tensor


class ReturnsPair(nn.Module):
    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        h = self.fc(x)
        return Pair(torch.relu(h), h[:, :2])


class ReturnsNested(nn.Module):
    """A dict holding nested tuples, from a child's dataclass result."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.pair = ReturnsPair(width)
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        out = self.pair(x)
        logits = self.head(out.first)
        return {"logits": logits, "parts": (out.second, (logits + 1, out.first.flatten()))}


class Holder(nn.Module):
    """A plain module that only holds others (its forward is never called)."""

    def __init__(self, width: int):
        super().__init__()
        self.block1 = nn.Linear(width, width)
        self.block2 = nn.Linear(width, width)


class CallsInside(nn.Module):
    """Calls a grandchild through a holder, the items of a module list, and one child twice;
    and makes tensors from numbers."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.blocks = Holder(width)
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(2)])
        self.shared = nn.Linear(width, width)

    def forward(self, x):
        h = self.blocks.block1(x)
        for layer in self.layers:
            h = layer(h)
        h = self.shared(h) + self.shared(x)
        return h * torch.tensor(2.0) + torch.tensor([float(i) for i in range(h.size(-1))])


class DataDependent(nn.Module):
    """Branches on a tensor's values: neither tracer can follow that."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


class FunctionalDropout(nn.Module):
    """``F.dropout(x, p, training=self.training)`` behind a kwargs forward."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x, **kwargs):
        return F.dropout(self.fc(x), 0.3, training=self.training)


class Attention(nn.Module):
    """Attention whose dropout follows the mode, as transformers writes it."""

    def __init__(self, width: int = 8, heads: int = 2, dropout: float = 0.25):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.dropout = dropout

    def forward(self, x, **kwargs):
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return out.transpose(1, 2).reshape(batch, length, width)


class TrainingOnly(nn.Module):
    """Does something else in training: cannot become one diagram."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x, **kwargs):
        if self.training:
            x = x * 2
        return self.fc(x)


class ManyOps(nn.Module):
    """Tensor code of the kinds third-party models write, between two layers, behind a
    ``**kwargs`` forward: indexing, joins and splits, masks, reductions, functional
    layers, made-up tensors. Each comes back from ATen as the torch call it was."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.weight = nn.Parameter(torch.randn(width, width))
        self.table = nn.Parameter(torch.randn(10, width))
        self.conv = nn.Parameter(torch.randn(2, 1, 3, 3))
        self.register_buffer("ids", torch.arange(4).view(1, 4))

    def forward(self, x, **kwargs):  # x: (N, 4, 8)
        batch, length, width = x.shape
        h = self.fc(x)
        if kwargs.get("strided"):
            h = torch.cat([h[:, :, ::2], h[:, :, 1::2]], dim=-1)
        a, b = h.chunk(2, dim=-1)
        c, d = torch.split(h, [3, 5], dim=-1)
        joined = torch.cat([a, b], dim=-1) + torch.stack([c.sum(-1), d.mean(-1)], -1).amax(-1,
                                                                                       True)
        scores = torch.einsum("bld,bmd->blm", joined, h) / math.sqrt(width)
        mask = torch.arange(length, device=x.device)[None, :] > torch.arange(length)[:, None]
        scores = scores.masked_fill(mask, float("-inf")).softmax(-1)
        mixed = torch.bmm(scores, h) + torch.baddbmm(h, scores, h, beta=0.5)
        mixed = torch.where(mixed > 0, mixed, 0.1 * mixed).clamp(-3.0, 3.0)
        picked = torch.gather(mixed, 1, self.ids.expand(batch, -1).unsqueeze(-1).expand(-1, -1,
                                                                                        width))
        normed = F.layer_norm(picked, (width,)) * torch.erf(picked) ** 2
        linear = F.linear(normed, self.weight).transpose(1, 2).flip(-1)[..., 0]
        looked = F.embedding(self.ids.expand(batch, -1), self.table)
        image = F.conv2d(looked.unsqueeze(1), self.conv, padding=1)
        image = F.max_pool2d(F.pad(image, (1, 1, 1, 1)), 3, stride=2) + \
            F.avg_pool2d(image, 2, ceil_mode=True)
        pooled = F.adaptive_avg_pool2d(F.interpolate(image, scale_factor=2.0), 1).flatten(1)
        steps = torch.cumsum(linear, -1).tril() if linear.dim() == 2 else linear
        made = torch.zeros(batch, 2, dtype=x.dtype) + torch.full((1, 2), 0.5).to(x.dtype)
        out = torch.cat([steps, pooled, made, 1 - linear[:, :1], -linear[:, 1:2]], dim=1)
        return F.gelu(out, approximate="tanh") + torch.div(out, 3, rounding_mode="floor")
