"""Normalization layers: batch, instance, layer, group, RMS and local response norm.

The channel count of batch, instance and group norm is inferred from the input. A channel
count set by hand that disagrees with the input is an error only where torch errors: when the
layer holds per-channel weights or running statistics; without them torch ignores it.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    concrete,
    expect_min_rank,
    expect_rank,
    first,
    float_param,
    int_param,
    layout,
    numel,
    set_param_fix,
)
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import format_shape, product


class ShapeList(ParamSpec):
    """An "int_list" that also takes one number (LayerNorm(512)) and is never empty."""

    def check_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        sizes = super().check_value(value)
        if sizes is not None and not sizes:
            raise ParamError(f"{self.name} needs at least one size")
        return sizes


# -- batch and instance norm ------------------------------------------------------------------
def _feature_axis(batch: bool, d: int, shape) -> int:
    """BatchNorm's channels are always dimension 1; InstanceNorm's are the d+1'th from the end
    (so dimension 0 of an unbatched input)."""
    return 1 if batch else len(shape) - (d + 1)


def _ranks(batch: bool, d: int) -> tuple[int, ...]:
    if batch:
        return (2, 3) if d == 1 else (d + 2,)
    return (d + 1, d + 2)


def _rank_hint(batch: bool, d: int) -> str:
    if batch and d == 1:
        return "(N, C) or (N, C, L)"
    if batch:
        return layout("N, C", d)
    return f"{layout('N, C', d)} or unbatched {layout('C', d)}"


def _check_channels(p, shape, axis, name, flags):
    """Only weights or running statistics tie the layer to a channel count."""
    channels, expected = shape[axis], p[name]
    if not any(p[flag] for flag in flags):
        return
    if isinstance(channels, int) and channels != expected:
        raise ShapeError(
            f"expected {expected} channels at dimension {axis} ({name}), "
            f"received {format_shape(shape)}",
            fix=set_param_fix(name, channels))


def _check_spatial_elements(shape, axis):
    # In training mode (a module's default) torch refuses to normalize a single value: the
    # variance is undefined. For InstanceNorm that depends on the spatial sizes alone.
    # (BatchNorm has the same rule for batch * spatial, but the batch size drawn in a design
    # is usually an example, and batch 1 is fine in eval mode, so it is not flagged.)
    spatial = shape[axis + 1:]
    if all(isinstance(n, int) for n in spatial) and product(spatial) == 1:
        raise ShapeError(f"expected more than one spatial element per channel to normalize, "
                         f"received {format_shape(shape)}", code="too-small")


def _feature_rule(batch, d):
    def rule(p, inputs):
        shape = first(inputs)
        expect_rank(shape, _ranks(batch, d), layout_hint=_rank_hint(batch, d))
        axis = _feature_axis(batch, d, shape)
        _check_channels(p, shape, axis, "num_features", ("affine", "track_running_stats"))
        if not batch:
            _check_spatial_elements(shape, axis)
        return [shape]
    return rule


def _infer_channels(name, axis_of, check_rank):
    def infer(p, inputs):
        shape = first(inputs)
        check_rank(shape)  # a wrong rank reads better than "num_features must be set"
        if p[name] is not None:
            return {}
        axis = axis_of(shape)
        return {name: concrete(shape[axis], name, shape)}
    return infer


def _affine_count(name, flag):
    return lambda p: 2 * p[name] if p[flag] else 0


def _affine_macs(flag):
    # The per-element scale and shift; normalising itself is left out like other elementwise
    # work.
    return lambda p, _i, outputs: numel(outputs[0]) if p[flag] else 0


def _feature_norm(batch, d):
    name = f"{'Batch' if batch else 'Instance'}Norm{d}d"
    params = (
        channels_param("num_features", inferable=True),
        float_param("eps", 1e-5, minimum=0.0),
        ParamSpec("momentum", "float", default=0.1, optional=True, minimum=0.0, maximum=1.0,
                  doc="running-statistics update rate; None: cumulative average"),
        bool_param("affine", batch, doc="learn a per-channel scale and shift"),
        bool_param("track_running_stats", batch, doc="keep running mean and variance"),
    )
    ranks, hint = _ranks(batch, d), _rank_hint(batch, d)
    what = "each channel over the batch" if batch else "each sample and channel separately"
    return LayerSpec(
        type=f"nn.{name}",
        family="norm",
        rule=_feature_rule(batch, d),
        params=params,
        infer=_infer_channels("num_features", lambda s: _feature_axis(batch, d, s),
                              lambda s: expect_rank(s, ranks, layout_hint=hint)),
        torch_class=name,
        count_params=_affine_count("num_features", "affine"),
        macs=_affine_macs("affine"),
        summary_params=("num_features",),
        name_hint="bn" if batch else None,
        tags=frozenset({"batch-norm"}) if batch else frozenset(),
        description=f"Normalizes {what} of a {hint} input.",
    )


# -- layer and RMS norm -----------------------------------------------------------------------
def _trailing_rule(p, inputs):
    shape = first(inputs)
    wanted = p["normalized_shape"]
    count = len(wanted)
    trailing = shape[-count:] if len(shape) >= count else shape
    fits = len(shape) >= count and all(
        actual == want or not isinstance(actual, int) for actual, want in zip(trailing, wanted))
    if fits:
        return [shape]
    proposal = trailing if len(shape) >= count else shape[-1:]
    fix = None
    if proposal and all(isinstance(s, int) for s in proposal):
        fix = set_param_fix("normalized_shape", list(proposal))
    last = "last dimension" if count == 1 else f"last {count} dimensions"
    raise ShapeError(
        f"expected the {last} to be {format_shape(tuple(wanted))} (normalized_shape), "
        f"received {format_shape(shape)}",
        code="shape-mismatch" if len(shape) >= count else "rank-mismatch",
        fix=fix)


def _normalized_shape():
    return ShapeList("normalized_shape", "int_list", minimum=1, required=True,
                     doc="the trailing dimensions to normalize over")


# -- group and local response norm ------------------------------------------------------------
def _group_rule(p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 2)
    groups, channels = p["num_groups"], p["num_channels"]
    actual = shape[1]
    if isinstance(actual, int) and actual % groups:
        divisor = max(g for g in range(1, groups + 1) if actual % g == 0)
        raise ShapeError(f"expected the channels (dimension 1) to be divisible by "
                         f"num_groups={groups}, received {format_shape(shape)}",
                         fix=set_param_fix("num_groups", divisor))
    if channels % groups:
        raise ShapeError(f"num_channels={channels} is not divisible by num_groups={groups}",
                         port=None, code="bad-param")
    _check_channels(p, shape, 1, "num_channels", ("affine",))
    # torch refuses groups of a single value (in eval mode too): no variance to divide by.
    if all(isinstance(n, int) for n in shape) and product(shape) // groups == 1:
        raise ShapeError(f"expected more than one value per group of {groups}, "
                         f"received {format_shape(shape)}", code="too-small")
    return [shape]


def _lrn_rule(_p, inputs):
    shape = first(inputs)
    expect_min_rank(shape, 3)
    return [shape]


register(
    *(_feature_norm(batch, d) for batch in (True, False) for d in (1, 2, 3)),
    LayerSpec(
        type="nn.LayerNorm",
        family="norm",
        rule=_trailing_rule,
        params=(_normalized_shape(), float_param("eps", 1e-5, minimum=0.0),
                bool_param("elementwise_affine", True, doc="learn a scale (and bias)"),
                bool_param("bias", True, doc="learn a shift too (with elementwise_affine)")),
        torch_class="LayerNorm",
        count_params=lambda p: product(p["normalized_shape"]) * (1 + p["bias"])
        if p["elementwise_affine"] else 0,
        macs=_affine_macs("elementwise_affine"),
        summary_params=("normalized_shape",),
        description="Normalizes each sample over its trailing normalized_shape dimensions.",
    ),
    LayerSpec(
        type="nn.RMSNorm",
        family="norm",
        rule=_trailing_rule,
        params=(_normalized_shape(),
                ParamSpec("eps", "float", optional=True, minimum=0.0,
                          doc="default: the dtype's machine epsilon"),
                bool_param("elementwise_affine", True, doc="learn a scale")),
        torch_class="RMSNorm",
        count_params=lambda p: product(p["normalized_shape"]) if p["elementwise_affine"] else 0,
        macs=_affine_macs("elementwise_affine"),
        summary_params=("normalized_shape",),
        description="Scales each sample by the root mean square of its trailing dimensions.",
    ),
    LayerSpec(
        type="nn.GroupNorm",
        family="norm",
        rule=_group_rule,
        params=(int_param("num_groups", required=True),
                channels_param("num_channels", inferable=True),
                float_param("eps", 1e-5, minimum=0.0),
                bool_param("affine", True, doc="learn a per-channel scale and shift")),
        infer=_infer_channels("num_channels", lambda _s: 1, lambda s: expect_min_rank(s, 2)),
        torch_class="GroupNorm",
        count_params=_affine_count("num_channels", "affine"),
        macs=_affine_macs("affine"),
        summary_params=("num_groups", "num_channels"),
        description="Normalizes each sample over groups of channels of an (N, C, *) input.",
    ),
    LayerSpec(
        type="nn.LocalResponseNorm",
        family="norm",
        rule=_lrn_rule,
        params=(int_param("size", required=True, doc="neighbouring channels to sum over"),
                float_param("alpha", 1e-4), float_param("beta", 0.75), float_param("k", 1.0)),
        torch_class="LocalResponseNorm",
        summary_params=("size",),
        description="Normalizes each channel by its neighbours across channels (AlexNet).",
    ),
)
