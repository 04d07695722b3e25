"""Building blocks for shape rules, shared by every catalog module.

Messages follow one pattern so every diagnostic reads alike: what the layer expected at that
input, then what it received, e.g. ``expected a 4-D input (N, C, H, W), received (N, 784)``.
"""

from __future__ import annotations

from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.spec import Fix, Inputs, ShapeError
from graph_schema.dims import Dim, Shape, format_dim, format_shape, product

SPATIAL_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def first(inputs: Inputs) -> Shape:
    shape = inputs[0]
    assert shape is not None  # the engine only calls rules with their required inputs known
    return shape


def layout(prefix: str, spatial: int) -> str:
    """The usual dimension names for messages: layout("N, C", 2) -> "(N, C, H, W)"."""
    names = SPATIAL_NAMES.get(spatial, ())
    return "(" + ", ".join([*prefix.split(", "), *names]) + ")"


def expect_rank(shape: Shape, ranks: tuple[int, ...], port: int = 0,
                layout_hint: str = "") -> None:
    if len(shape) in ranks:
        return
    wanted = " or ".join(f"{r}-D" for r in ranks)
    hint = f" {layout_hint}" if layout_hint else ""
    raise ShapeError(
        f"expected a {wanted} input{hint}, received {format_shape(shape)}",
        port=port,
        code="rank-mismatch",
    )


def expect_min_rank(shape: Shape, rank: int, port: int = 0) -> None:
    if len(shape) < rank:
        raise ShapeError(
            f"expected an input with at least {rank} dimensions, received {format_shape(shape)}",
            port=port,
            code="rank-mismatch",
        )


def expect_dim(shape: Shape, axis: int, expected: Dim, what: str, port: int = 0,
               fix: Fix | None = None) -> None:
    """Check one axis against a parameter, e.g. axis 1 against in_channels."""
    actual = shape[axis]
    # A symbolic size cannot be proven wrong at design time; only two numbers can disagree.
    if actual == expected or not (isinstance(actual, int) and isinstance(expected, int)):
        return
    axis_name = "the last dimension" if axis == -1 else f"dimension {axis % len(shape)}"
    raise ShapeError(
        f"expected {axis_name} to be {format_dim(expected)} ({what}), "
        f"received {format_shape(shape)}",
        port=port,
        fix=fix,
    )


def concrete(value: Dim, what: str, shape: Shape, port: int = 0) -> int:
    """A size that a parameter will be set from must be a number, not a symbol."""
    if isinstance(value, int):
        return value
    raise ShapeError(
        f"{what} cannot be taken from the symbolic size {format_dim(value)} in "
        f"{format_shape(shape)}; give the input a fixed size or set {what}",
        port=port,
        code="symbolic-size",
    )


def norm_axis(axis: int, rank: int, port: int = 0, shape: Shape | None = None) -> int:
    if -rank <= axis < rank:
        return axis % rank
    raise ShapeError(
        f"dimension {axis} is out of range for a {rank}-D input {format_shape(shape)}",
        port=port,
        code="bad-dim",
    )


def positive(value: Dim, what: str, shape: Shape, port: int = 0) -> Dim:
    """Spatial sizes that come out zero or negative mean the input is too small."""
    if isinstance(value, int) and value <= 0:
        raise ShapeError(
            f"input {format_shape(shape)} is too small: {what} would be {value}",
            port=port,
            code="too-small",
        )
    return value


def empty_result(what: str, axis: int, shape: Shape, port: int | None = 0) -> ShapeError:
    """An op whose parameters leave a dimension with nothing in it.

    Inputs never are empty (an io.Input refuses a size of 0), so an empty result comes from
    a slice, crop or section that misses; torch would carry the empty tensor on until some
    layer refuses it, far from the cause, so it is refused here, where it happens."""
    return ShapeError(f"{what} leaves dimension {axis} empty (size 0), from the input "
                      f"{format_shape(shape)}", port=port, code="empty")


def conv_out(size: Dim, kernel: int, stride: int, padding: int, dilation: int,
             ceil_mode: bool = False) -> Dim:
    """torch's output size for convolution and pooling (floor, or ceil with ceil_mode)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    # torch takes ceil(span / stride) + 1 windows, then drops a last window that would start
    # inside the right padding. Both steps together are one floor division, which also keeps
    # a symbolic size exact (whether the last window is dropped depends on its remainder).
    shift = min(padding - dilation * (kernel - 1) + stride - 2, -1)
    return (size + padding + shift) // stride + 1


def conv_transpose_out(size: Dim, kernel: int, stride: int, padding: int, dilation: int,
                       output_padding: int) -> Dim:
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def numel(shape: Shape) -> Dim:
    return product(shape)


def batch_macs(shape: Shape) -> Dim:
    """Elements of one output, the cost unit of elementwise layers."""
    return product(shape)


def int_param(name: str, default=None, minimum: int = 1, **kw) -> ParamSpec:
    return ParamSpec(name, "int", default=default, minimum=minimum, **kw)


def channels_param(name: str, inferable: bool = False, **kw) -> ParamSpec:
    required = not inferable and "default" not in kw
    return ParamSpec(name, "int", minimum=1, inferable=inferable, required=required, **kw)


def bool_param(name: str, default: bool, **kw) -> ParamSpec:
    return ParamSpec(name, "bool", default=default, **kw)


def float_param(name: str, default: float, minimum=None, maximum=None, **kw) -> ParamSpec:
    return ParamSpec(name, "float", default=default, minimum=minimum, maximum=maximum, **kw)


def choice_param(name: str, default: str, choices: tuple[str, ...], **kw) -> ParamSpec:
    return ParamSpec(name, "choice", default=default, choices=choices, **kw)


def ints_param(name: str, default, arity: int, minimum: int = 0, **kw) -> ParamSpec:
    return ParamSpec(name, "ints", default=default, arity=arity, minimum=minimum, **kw)


def flatten_fix() -> Fix:
    return Fix("insert Flatten", "insert_node", {"type": "nn.Flatten", "params": {}})


def set_param_fix(param: str, value) -> Fix:
    return Fix(f"set {param}={value}", "set_param", {"param": param, "value": value})
