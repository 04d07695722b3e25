"""Dropout layers: elementwise, channel-wise (1-D, 2-D, 3-D) and the SELU-preserving alphas.

None changes the shape; the channel-wise ones only accept the ranks torch documents for them.
Torch merely warns (deprecated) on other ranks for Dropout2d/3d; they are refused here so the
drawing does not depend on behaviour torch has announced it will turn into an error.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    expect_min_rank,
    expect_rank,
    first,
    float_param,
)
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec


def _any_rank(_p, inputs):
    return [first(inputs)]


def _ranks(ranks: tuple[int, ...], hint: str):
    def rule(_p, inputs):
        shape = first(inputs)
        expect_rank(shape, ranks, layout_hint=hint)
        return [shape]
    return rule


def _feature_alpha_rule(_p, inputs):
    # Channel-wise noise needs a batch and a channel axis at least.
    shape = first(inputs)
    expect_min_rank(shape, 2)
    return [shape]


def _dropout(name: str, rule, description: str) -> LayerSpec:
    return LayerSpec(
        type=f"nn.{name}",
        family="dropout",
        rule=rule,
        params=(float_param("p", 0.5, minimum=0.0, maximum=1.0,
                            doc="probability of zeroing an element (or a channel)"),
                bool_param("inplace", False)),
        torch_class=name,
        summary_params=("p",),
        tags=frozenset({"dropout", "transparent"}),
        description=description,
    )


register(
    _dropout("Dropout", _any_rank, "Zeroes random elements with probability p while training."),
    _dropout("Dropout1d", _ranks((2, 3), "(N, C, L) or unbatched (C, L)"),
             "Zeroes whole channels of (N, C, L) inputs with probability p while training."),
    _dropout("Dropout2d", _ranks((3, 4), "(N, C, H, W) or (N, C, L)"),
             "Zeroes whole channels of (N, C, H, W) inputs with probability p while training."),
    _dropout("Dropout3d", _ranks((4, 5), "(N, C, D, H, W) or unbatched (C, D, H, W)"),
             "Zeroes whole channels of (N, C, D, H, W) inputs with probability p while "
             "training."),
    _dropout("AlphaDropout", _any_rank,
             "Dropout that keeps the mean and variance of SELU activations."),
    _dropout("FeatureAlphaDropout", _feature_alpha_rule,
             "Channel-wise AlphaDropout: masks whole channels, for SELU networks."),
)
