"""Attention masks as models build them, imported and round-tripped through the strict acid
test (tests/import_models/acid.py): positions counted with torch.arange up to the sequence
length, compared with per-sample lengths and with numbers, and combined with &, | and ~."""

from __future__ import annotations

import torch
from torch import nn

from tests.import_models.acid import acid


class LengthMask(nn.Module):
    """Zeroes the padded positions: each sample keeps its first lengths[i] positions."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x, lengths):  # x: (N, L, 8), lengths: (N,) int64
        positions = torch.arange(x.size(1), device=x.device)
        keep = positions[None, :] < lengths[:, None]
        started = positions >= 0  # BERT's arange(n) >= 0
        mask = keep & started[None, :] | torch.eq(lengths, 0)[:, None]
        return self.fc(x).masked_fill(~mask[:, :, None], 0.0)


class ScoreMasks(nn.Module):
    """Every comparison, as a function, a method, or an operator with a number on either
    side, and the logical functions."""

    def forward(self, x):  # x: (N, 6)
        a = torch.logical_and(x.gt(0.0), torch.le(x, 1.0))
        b = torch.logical_or(x.ne(0.5), 0.25 > x)  # a number on the left: x < 0.25
        c = torch.logical_not(x.eq(x.amax(1, keepdim=True)) | (x >= x.mean(1, keepdim=True)))
        d = torch.lt(x, 2) & (x != x)
        return torch.where(a & b | c | d, x, -x)


def _lengths(batch: int) -> tuple:
    return (torch.randn(batch, 5, 8), torch.arange(batch) % 6)


def test_a_padding_mask_from_arange_and_lengths_is_drawn(tmp_path):
    verdict = acid(LengthMask, _lengths, tmp_path)
    assert verdict.kept == ()
    source = verdict.source
    for call in ("torch.arange(", "torch.lt(", "torch.ge(", "torch.eq(", "torch.logical_and(",
                 "torch.logical_or(", "torch.logical_not("):
        assert call in source, (call, source)


def test_every_comparison_and_logic_op_is_drawn(tmp_path):
    verdict = acid(ScoreMasks, lambda n: (torch.randn(n, 6),), tmp_path)
    assert verdict.kept == ()
    for call in ("torch.gt(x, 0.0)", "torch.le(", "torch.ne(", "torch.lt(x, 0.25)",
                 "torch.eq(", "torch.lt(x, 2)"):
        assert call in verdict.source, (call, verdict.source)


class OddLengths(nn.Module):
    """``&`` on integers works bit by bit: not logic, so not drawn as op.logical_and."""

    def forward(self, x, lengths):
        return x * (lengths & 1)[:, None, None]


class HoldsOddLengths(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.odd = nn.Linear(8, 8), OddLengths()

    def forward(self, x, lengths):
        return self.odd(self.fc(x), lengths)


def test_bitwise_and_on_integers_keeps_its_class_as_source(tmp_path):
    verdict = acid(HoldsOddLengths, _lengths, tmp_path)
    assert verdict.kept == ("OddLengths",)
    assert "torch.logical_and(" not in verdict.source
