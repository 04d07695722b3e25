"""Pooling in 1, 2 and 3 dimensions: max, average, power-average (LP) and adaptive.

Window pools share torch's output formula (``conv_out``, with ``ceil_mode``) and its rule that
padding may be at most half the kernel. All of them accept unbatched inputs (C, *spatial) as
torch does. Max pools with ``return_indices`` gain a second output of the same shape.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    conv_out,
    expect_rank,
    first,
    ints_param,
    layout,
    positive,
    set_param_fix,
)
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import format_shape


class OptionalSizes(ParamSpec):
    """An "ints" parameter whose entries may also be None (adaptive pooling's output_size,
    where None keeps that input size). A single number still applies to every dimension."""

    def check_value(self, value):
        if not isinstance(value, (list, tuple)) or None not in value:
            return super().check_value(value)
        if len(value) != self.arity:
            raise ParamError(f"{self.name} must be one number or {self.arity} entries, "
                             f"got {value!r}")
        plain = ParamSpec(self.name, "int", minimum=self.minimum)
        sizes = tuple(None if item is None else plain.check_value(item) for item in value)
        if all(item is None for item in sizes):
            # All None would keep the input as it is; torch has no spelling for that as a
            # single value, and nn.Identity says it better.
            raise ParamError(f"{self.name} needs at least one size besides None")
        return sizes


def _bad_param(message: str, fix=None) -> ShapeError:
    return ShapeError(message, port=None, code="bad-param", fix=fix)


def _as_json(values: tuple[int, ...]):
    """A tuple parameter as a file would store it: one number when all entries agree."""
    return values[0] if len(set(values)) == 1 else list(values)


def _expect_pool_rank(shape, d):
    expect_rank(shape, (d + 1, d + 2),
                layout_hint=f"{layout('N, C', d)} or unbatched {layout('C', d)}")


def _check_half_kernel(padding, kernel):
    # torch compares with half of the kernel itself, not of the dilated window.
    if any(pad > k // 2 for pad, k in zip(padding, kernel)):
        halves = tuple(min(pad, k // 2) for pad, k in zip(padding, kernel))
        raise _bad_param(
            f"padding={_as_json(padding)} must be at most half of "
            f"kernel_size={_as_json(kernel)}",
            fix=set_param_fix("padding", _as_json(halves)))


def _check_fits_kernel(shape, kernel):
    # avg_pool3d (and so LPPool3d) wants each input size to hold a whole kernel even when
    # padding or ceil_mode would make room; the 1-D and 2-D pools do not ask this.
    sizes = shape[-3:]
    if any(isinstance(n, int) and n < k for n, k in zip(sizes, kernel)):
        raise ShapeError(
            f"expected each of the last 3 dimensions to be at least kernel_size="
            f"{_as_json(kernel)} (padding does not count here), received {format_shape(shape)}",
            code="too-small")


def _window_rule(d, indices=False, whole_kernel=False):
    """Max, average and LP pooling: torch's pooling output size per spatial dimension."""
    def rule(p, inputs):
        shape = first(inputs)
        _expect_pool_rank(shape, d)
        kernel = _tuple(p["kernel_size"], d)
        stride = kernel if p["stride"] is None else _tuple(p["stride"], d)
        padding = p.get("padding", (0,) * d)
        dilation = p.get("dilation", (1,) * d)
        _check_half_kernel(padding, kernel)
        if whole_kernel:
            _check_fits_kernel(shape, kernel)
        if p.get("norm_type") == 0:
            raise _bad_param("norm_type must not be 0 (torch divides by it)")
        spatial = [
            positive(conv_out(size, k, s, pad, dil, p["ceil_mode"]), "the output size", shape)
            for size, k, s, pad, dil in zip(shape[-d:], kernel, stride, padding, dilation)
        ]
        out = (*shape[:-d], *spatial)
        return [out, out] if indices and p["return_indices"] else [out]
    return rule


def _tuple(value, d):
    """Sizes as tuples; LPPool1d stores plain ints (its torch code multiplies by them)."""
    return (value,) * d if isinstance(value, int) else value


def _adaptive_rule(d, indices=False):
    def rule(p, inputs):
        shape = first(inputs)
        _expect_pool_rank(shape, d)
        spatial = [size if want is None else want
                   for size, want in zip(shape[-d:], p["output_size"])]
        out = (*shape[:-d], *spatial)
        return [out, out] if indices and p["return_indices"] else [out]
    return rule


def _window(d):
    return (ints_param("kernel_size", None, d, minimum=1, required=True),
            ints_param("stride", None, d, minimum=1, optional=True,
                       doc="default: kernel_size"))


def _spec(name, rule, params, summary, description, outputs=("output",)):
    return LayerSpec(type=f"nn.{name}", family="pool", rule=rule, params=params,
                     torch_class=name, outputs=outputs, summary_params=summary,
                     description=description)


def _max_pool(d):
    params = (*_window(d), ints_param("padding", 0, d), ints_param("dilation", 1, d, minimum=1),
              bool_param("return_indices", False, doc="also output the argmax positions"),
              bool_param("ceil_mode", False, doc="round the output size up, not down"))
    return _spec(f"MaxPool{d}d", _window_rule(d, indices=True), params,
                 ("kernel_size", "stride"), f"{d}-D max pooling over {layout('N, C', d)}.",
                 outputs=("output", "indices"))


def _avg_pool(d):
    params = [*_window(d), ints_param("padding", 0, d),
              bool_param("ceil_mode", False, doc="round the output size up, not down"),
              bool_param("count_include_pad", True, doc="count the zero padding in the mean")]
    if d > 1:
        params.append(ParamSpec("divisor_override", "int", optional=True, minimum=1,
                                doc="divide by this instead of the window size"))
    return _spec(f"AvgPool{d}d", _window_rule(d, whole_kernel=d == 3), tuple(params),
                 ("kernel_size", "stride"), f"{d}-D average pooling over {layout('N, C', d)}.")


def _lp_pool(d):
    if d == 1:
        window = (ParamSpec("kernel_size", "int", minimum=1, required=True),
                  ParamSpec("stride", "int", minimum=1, optional=True,
                            doc="default: kernel_size"))
    else:
        window = _window(d)
    params = (ParamSpec("norm_type", "float", required=True, doc="the power p"), *window,
              bool_param("ceil_mode", False, doc="round the output size up, not down"))
    return _spec(f"LPPool{d}d", _window_rule(d, whole_kernel=d == 3), params,
                 ("norm_type", "kernel_size"),
                 f"{d}-D power-average pooling: (sum of x^p over each window)^(1/p).")


def _adaptive(kind, d):
    if d == 1:  # torch's 1-D adaptive pools take no None
        size = ints_param("output_size", None, 1, minimum=1, required=True)
    else:
        size = OptionalSizes("output_size", "ints", arity=d, minimum=1, required=True,
                             doc="a size per dimension; None keeps the input's")
    params = (size,)
    indices = kind == "Max"
    if indices:
        params += (bool_param("return_indices", False, doc="also output the argmax positions"),)
    return _spec(f"Adaptive{kind}Pool{d}d", _adaptive_rule(d, indices), params, ("output_size",),
                 f"{d}-D {kind.lower()} pooling to a fixed output_size, whatever the input size.",
                 outputs=("output", "indices") if indices else ("output",))


register(
    *(_max_pool(d) for d in (1, 2, 3)),
    *(_avg_pool(d) for d in (1, 2, 3)),
    *(_lp_pool(d) for d in (1, 2, 3)),
    *(_adaptive(kind, d) for kind in ("Max", "Avg") for d in (1, 2, 3)),
)
