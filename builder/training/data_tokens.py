"""Synthetic data for models that take token ids or pairs of inputs: what `synthetic:` gives when
the model's input is an embedding's ids (or `vocab=` is given), and `synthetic:pairs`.

Each set is learnable by the model family it is for, so that the sanity ladder can overfit it and
a short run shows the loss falling: a class is told by the marker tokens it owns, a pair is a
match when its second part is a perturbed copy of its first.
"""

from __future__ import annotations

import torch

from builder.training.data_sources import DataError, Raw

MARKED_SHARE = 0.25  # of a sequence's tokens drawn from its class's markers
REPLACED_SHARE = 1 / 6  # of a matching pair's tokens replaced by others
SWAPPED_SHARE = 0.2  # of neighbouring token pairs swapped in a match
NOISE = 0.5  # of a matching float pair: the second is the first plus this much noise


def read_token_classes(length: int, vocab: int, n: int, seed: int, classes: int) -> Raw:
    """Sequences of `length` ids below `vocab`: uniform noise, with about a quarter of the
    positions taken from a few marker ids that only the sequence's class uses."""
    if vocab < 2 * classes:
        raise DataError(f"synthetic: vocab={vocab} is too small for {classes} classes "
                        f"(give vocab >= {2 * classes})")
    gen = torch.Generator().manual_seed(seed)
    per_class = max(1, min(8, vocab // (2 * classes)))
    markers = torch.randperm(vocab, generator=gen)[:classes * per_class].view(classes, per_class)
    y = torch.randint(0, classes, (n,), generator=gen)
    noise = torch.randint(0, vocab, (n, length), generator=gen)
    marked = torch.rand((n, length), generator=gen) < MARKED_SHARE
    which = torch.randint(0, per_class, (n, length), generator=gen)
    return Raw(torch.where(marked, markers[y.unsqueeze(1), which], noise), y)


def read_token_pairs(lengths: tuple[int, int], vocab: int, n: int, seed: int) -> Raw:
    """Pairs of id sequences, label 1 (half of them) when the second is the first with some ids
    replaced and some neighbours swapped (cut or repeated to its own length), 0 when it is an
    unrelated sequence."""
    if vocab < 2:
        raise DataError(f"synthetic:pairs: vocab={vocab} must be at least 2")
    first_length, second_length = lengths
    gen = torch.Generator().manual_seed(seed)
    first = torch.randint(0, vocab, (n, first_length), generator=gen)
    y = torch.randint(0, 2, (n,), generator=gen)
    copy = first[:, torch.arange(second_length) % first_length]
    replaced = torch.rand((n, second_length), generator=gen) < REPLACED_SHARE
    copy = torch.where(replaced, torch.randint(0, vocab, (n, second_length), generator=gen), copy)
    copy = copy.gather(1, _neighbour_swaps(n, second_length, gen))
    unrelated = torch.randint(0, vocab, (n, second_length), generator=gen)
    return Raw((first, torch.where(y.unsqueeze(1) == 1, copy, unrelated)), y)


def read_float_pairs(shapes: tuple[tuple[int, ...], tuple[int, ...]], n: int, seed: int) -> Raw:
    """Pairs of float samples, label 1 when the second is the first plus noise, 0 when it is
    drawn on its own (a Siamese network's task)."""
    if shapes[0] != shapes[1]:
        raise DataError(f"synthetic:pairs of float inputs needs both inputs of one shape, "
                        f"the model's are {_fmt(shapes[0])} and {_fmt(shapes[1])}")
    gen = torch.Generator().manual_seed(seed)
    first = torch.randn((n, *shapes[0]), generator=gen)
    y = torch.randint(0, 2, (n,), generator=gen)
    near = first + NOISE * torch.randn(first.shape, generator=gen)
    far = torch.randn(first.shape, generator=gen)
    match = y.view(n, *([1] * len(shapes[0]))) == 1
    return Raw((first, torch.where(match, near, far)), y)


def _neighbour_swaps(n: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """Per row, an index order that swaps some neighbouring positions (0<->1, 2<->3, ...)."""
    order = torch.arange(length).repeat(n, 1)
    even = torch.arange(0, length - 1, 2)
    swap = torch.rand((n, len(even)), generator=gen) < SWAPPED_SHARE
    order[:, even] = torch.where(swap, even + 1, even)
    order[:, even + 1] = torch.where(swap, even, even + 1)
    return order


def _fmt(shape: tuple) -> str:
    return "(N, " + ", ".join(str(d) for d in shape) + ")"
