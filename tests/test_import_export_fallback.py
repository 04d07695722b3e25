"""The walker's second tracer (walk.py): classes torch.fx cannot trace (``**kwargs``
forwards, branches on config flags, on ranks and sizes) are traced by torch.export instead,
and drawn, not kept; the round trip holds under the strict acid test."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.import_models import export_cases as cases
from tests.import_models.acid import acid


class KwargsAttention(nn.Module):
    """Attention as transformers writes it: a ``**kwargs`` forward, a size read from the
    input, and a dropout that follows the mode."""

    def __init__(self, width: int = 8, heads: int = 2, dropout: float = 0.0):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.qkv = nn.Linear(width, 3 * width)

    def forward(self, x, **kwargs):
        batch, length, width = x.shape
        heads = [t.view(batch, length, self.heads, -1).transpose(1, 2)
                 for t in self.qkv(x).chunk(3, dim=-1)]
        out = F.scaled_dot_product_attention(
            *heads, dropout_p=self.dropout if self.training else 0.0)
        return out.transpose(1, 2).reshape(batch, length, width)


class Stack(nn.Module):
    """A model of classes only torch.export can trace, called with and without kwargs."""

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.branch = cases.ConfigBranch(cases.Config(width=8, use_norm=True, scale=2.0))
        self.rank = cases.RankBranch(8)
        self.drop = cases.FunctionalDropout(8)
        self.attention = KwargsAttention(8, heads=2, dropout=dropout)

    def forward(self, x):  # x: (N, L, 8)
        x = self.attention(x)
        x = self.branch(x, scale=0.5)
        return self.drop(self.rank(x).flatten(1))


def _inputs(batch: int) -> tuple:
    return (torch.randn(batch, 5, 8),)


def test_classes_fx_cannot_trace_are_drawn(tmp_path):
    verdict = acid(Stack, _inputs, tmp_path)
    assert verdict.kept == ()
    assert verdict.drawn.classes == 5
    assert "F.scaled_dot_product_attention(" in verdict.source
    assert "0.5" in verdict.source  # the scale given through **kwargs, not the config's 2.0


def test_attention_dropout_that_follows_the_mode_is_drawn(tmp_path):
    # dropout_p=p if self.training else 0.0 is the catalog op's training_only: the class
    # is drawn, and the round trip holds in train mode (same seed, same masks)
    verdict = acid(lambda: Stack(dropout=0.25), _inputs, tmp_path)
    assert verdict.kept == ()
    assert "dropout_p=0.25 if self.training else 0.0" in verdict.source


@pytest.mark.parametrize("size", [2, 3])
def test_the_walker_knows_the_batch_size(size):
    from codegen.importer.walk import Walker

    walker = Walker(Stack(), meta=False)
    walker.run(_inputs(size))
    assert walker.batch_size == size
    assert all(visit.reason == "" for visit in walker.order)


class Gathers(nn.Module):
    """Picks one feature per position (torch.gather), as embeddings pick token types."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x, index):  # x: (N, L, 8), index: (N, L, 1) int64
        return torch.gather(self.fc(x), 2, index)


def test_gather_is_drawn_as_an_op(tmp_path):
    verdict = acid(Gathers, lambda n: (torch.randn(n, 5, 8), torch.randint(0, 8, (n, 5, 1))),
                   tmp_path)
    assert verdict.kept == () and verdict.drawn.ops == 1
    assert "torch.gather(" in verdict.source
