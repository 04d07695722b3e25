"""Ops that rearrange one tensor without touching its values: reshape/view, permute,
transpose, flatten, squeeze/unsqueeze, expand, contiguous."""

from __future__ import annotations

from graph_schema.catalog.helpers import empty_result, first, norm_axis, numel, set_param_fix
from graph_schema.catalog.ops_common import DimsOrAll, bad_param, method, norm_dims
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import Dim, Sym, exact_div, format_dim, format_shape, product


# -- reshape and view ------------------------------------------------------------------------
def _target_text(target) -> str:
    return "(" + ", ".join(str(item) for item in target) + (",)" if len(target) == 1 else ")")


def divide_size(total: Dim, known: Dim) -> Dim | None:
    """The size -1 stands for, or None when ``total`` provably is no multiple of ``known``.

    Exact quotients come out as they are (N*C*L / (N*C) = L). A symbolic remainder cannot be
    ruled out at design time, so it becomes an opaque size like ``L//2``; only a quotient that
    is a fraction whatever the symbols are (12 / 5, or 3*N / (2*N)) is refused.
    """
    quotient = exact_div(total, known)
    if quotient is not None:
        return quotient
    if isinstance(total, int) and isinstance(known, int):
        return None
    if isinstance(known, Sym) and len(known.terms) == 1:
        (mono, coeff), = known.terms
        rest = exact_div(total, Sym(((mono, 1),)))
        if isinstance(rest, int):
            return None
        if rest is not None:
            exact = exact_div(rest, coeff)
            return exact if exact is not None else rest // coeff
    return total // known


def _counts_differ(total: Dim, wanted: Dim) -> bool:
    """Element counts that differ whatever the symbols are: 24 vs 30, or 12*N vs 10*N."""
    if isinstance(total, int) and isinstance(wanted, int):
        return total != wanted
    ratio = exact_div(total, wanted)
    inverse = exact_div(wanted, total)
    return (isinstance(ratio, int) and ratio != 1) or (isinstance(inverse, int) and inverse != 1)


def _reshape_rule(p, inputs):
    shape = first(inputs)
    target = p["shape"]
    sizes: list[Dim] = []
    for item in target:
        if isinstance(item, str):
            symbol = Sym.named(item)
            if symbol not in shape:
                raise ShapeError(
                    f"expected an input with a dimension named {item} (shape "
                    f"{_target_text(target)} refers to it), received {format_shape(shape)}",
                    port=0, code="bad-dim")
            sizes.append(symbol)
        else:
            sizes.append(item)
    total = numel(shape)
    free = [i for i, item in enumerate(target) if item == -1]
    known = product(s for i, s in enumerate(sizes) if i not in free)
    if free:
        missing = divide_size(total, known)
        if missing is None:
            raise ShapeError(
                f"expected an input whose {format_dim(total)} elements divide by "
                f"{format_dim(known)} to reshape to {_target_text(target)}, received "
                f"{format_shape(shape)}", port=0)
        sizes[free[0]] = missing
    elif _counts_differ(total, known):
        fix = None
        if len(target) > 1 and divide_size(total, product(sizes[:-1])) is not None:
            fix = set_param_fix("shape", [*target[:-1], -1])
        raise ShapeError(
            f"expected an input with {format_dim(known)} elements to reshape to "
            f"{_target_text(target)}, received {format_shape(shape)} with "
            f"{format_dim(total)} elements", port=0, fix=fix)
    return [tuple(sizes)]


def _reshape(name: str, description: str) -> LayerSpec:
    return LayerSpec(
        type=f"op.{name}",
        family="reshape",
        rule=_reshape_rule,
        params=(ParamSpec("shape", "shape", required=True,
                          doc="sizes, one -1, or names of input dimensions such as N"),),
        call=method(name, positional=("shape",)),
        summary_params=("shape",),
        tags=frozenset({"reshape"}),
        description=description,
    )


# -- axis reordering -------------------------------------------------------------------------
def _permute_rule(p, inputs):
    shape = first(inputs)
    dims = p["dims"]
    rank = len(shape)
    if not rank:
        # torch has no spelling for it: x.permute() with no dims is a TypeError.
        raise ShapeError("expected an input with at least 1 dimension to permute, received a "
                         "scalar ()", port=0, code="rank-mismatch")
    axes = [d % rank if -rank <= d < rank else None for d in dims]
    if len(dims) != rank or None in axes or sorted(axes) != list(range(rank)):
        raise ShapeError(
            f"expected dims to order all {rank} dimensions of the input, each once (a "
            f"permutation of {tuple(range(rank))}), received dims={tuple(dims)} for "
            f"{format_shape(shape)}", port=0, code="bad-dim")
    return [tuple(shape[a] for a in axes)]


def _transpose_rule(p, inputs):
    shape = first(inputs)
    rank = max(len(shape), 1)  # a scalar accepts 0 and -1, as torch does
    a = norm_axis(p["dim0"], rank, shape=shape)
    b = norm_axis(p["dim1"], rank, shape=shape)
    out = list(shape)
    if out:
        out[a], out[b] = out[b], out[a]
    return [tuple(out)]


def _flatten_rule(p, inputs):
    shape = first(inputs)
    rank = max(len(shape), 1)
    start = norm_axis(p["start_dim"], rank, shape=shape)
    end = norm_axis(p["end_dim"], rank, shape=shape)
    if start > end:
        raise bad_param(f"start_dim={p['start_dim']} comes after end_dim={p['end_dim']} for "
                        f"input {format_shape(shape)}")
    if not shape:
        return [(1,)]
    return [(*shape[:start], product(shape[start:end + 1]), *shape[end + 1:])]


# -- adding and removing size-1 dimensions ---------------------------------------------------
def _squeeze_rule(p, inputs):
    shape = first(inputs)
    # Only a size known to be 1 is removed: a symbolic size may be anything at run time.
    axes = norm_dims(p["dim"], len(shape), shape) if p["dim"] else range(len(shape))
    drop = {a for a in axes if a < len(shape) and shape[a] == 1}
    return [tuple(size for a, size in enumerate(shape) if a not in drop)]


def _unsqueeze_rule(p, inputs):
    shape = first(inputs)
    axis = norm_axis(p["dim"], len(shape) + 1, shape=shape)
    return [(*shape[:axis], 1, *shape[axis:])]


def _expand_rule(p, inputs):
    shape = first(inputs)
    sizes = p["sizes"]
    if len(sizes) < len(shape):
        raise ShapeError(
            f"expected at most {len(sizes)} dimensions (one per entry of sizes "
            f"{tuple(sizes)}), received {format_shape(shape)}", port=0, code="rank-mismatch")
    new = len(sizes) - len(shape)
    out: list[Dim] = []
    for i, size in enumerate(sizes):
        if size == 0:
            raise empty_result(f"sizes[{i}]=0", i, shape)
        if i < new:
            if size == -1:
                raise bad_param(f"sizes[{i}] is -1, but dimension {i} is new (the input "
                                f"{format_shape(shape)} has {len(shape)} dimensions), so there "
                                f"is no size to keep")
            out.append(size)
            continue
        current = shape[i - new]
        if size == -1 or size == current:
            out.append(current)
        elif current == 1 or not isinstance(current, int):
            out.append(size)  # a symbolic size is accepted: it must be 1 (or equal) at run time
        else:
            raise ShapeError(
                f"expected dimension {i - new} to be 1 or {size} to expand to "
                f"{tuple(sizes)}, received {format_shape(shape)}: only size-1 dimensions can "
                f"grow", port=0)
    return [tuple(out)]


def _same_shape(_p, inputs):
    return [first(inputs)]


register(
    _reshape("reshape", "Gives the tensor a new shape with the same number of elements "
                        "(x.reshape); -1 takes the remaining size, a name such as N keeps "
                        "that input dimension."),
    _reshape("view", "Like reshape but shares memory (x.view): needs a contiguous input, so "
                     "use reshape (or contiguous first) after permute or transpose."),
    LayerSpec(
        type="op.permute",
        family="reshape",
        rule=_permute_rule,
        params=(ParamSpec("dims", "int_list", required=True, doc="the new order of the axes"),),
        call=method("permute", star="dims"),
        summary_params=("dims",),
        description="Reorders the dimensions (x.permute), e.g. (N, L, C) -> (N, C, L) "
                    "with dims [0, 2, 1].",
    ),
    LayerSpec(
        type="op.transpose",
        family="reshape",
        rule=_transpose_rule,
        params=(ParamSpec("dim0", "int", default=0), ParamSpec("dim1", "int", default=1)),
        call=method("transpose", positional=("dim0", "dim1")),
        summary_params=("dim0", "dim1"),
        description="Swaps two dimensions (x.transpose(dim0, dim1)).",
    ),
    LayerSpec(
        type="op.flatten",
        family="reshape",
        rule=_flatten_rule,
        params=(ParamSpec("start_dim", "int", default=0),
                ParamSpec("end_dim", "int", default=-1)),
        call=method("flatten", keyword=("start_dim", "end_dim")),
        summary_params=("start_dim", "end_dim"),
        description="Merges dimensions start_dim..end_dim into one (x.flatten); note that "
                    "start_dim defaults to 0 here, unlike nn.Flatten's 1.",
    ),
    LayerSpec(
        type="op.squeeze",
        family="reshape",
        rule=_squeeze_rule,
        params=(DimsOrAll("dim", "dims", default=(),
                          doc="dimensions to drop if their size is 1; empty: all of them"),),
        call=method("squeeze", star="dim"),
        summary_params=("dim",),
        description="Removes dimensions of size 1 (x.squeeze): the given ones, or every one. "
                    "A symbolic size is never removed.",
    ),
    LayerSpec(
        type="op.unsqueeze",
        family="reshape",
        rule=_unsqueeze_rule,
        params=(ParamSpec("dim", "int", required=True),),
        call=method("unsqueeze", positional=("dim",)),
        summary_params=("dim",),
        description="Inserts a dimension of size 1 at dim (x.unsqueeze).",
    ),
    LayerSpec(
        type="op.expand",
        family="reshape",
        rule=_expand_rule,
        params=(ParamSpec("sizes", "int_list", required=True, minimum=-1,
                          doc="the new sizes; -1 keeps a size"),),
        call=method("expand", positional=("sizes",)),
        summary_params=("sizes",),
        description="Repeats size-1 dimensions without copying (x.expand); -1 keeps a size and "
                    "extra leading sizes add dimensions.",
    ),
    LayerSpec(
        type="op.contiguous",
        family="reshape",
        rule=_same_shape,
        call=method("contiguous"),
        description="Copies the tensor into contiguous memory (x.contiguous), as view needs "
                    "after permute or transpose.",
    ),
)
