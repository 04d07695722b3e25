"""Ops that select parts of a tensor: indexing (x[...]), split and chunk.

On concrete sizes the rules compute exactly what torch does (Python slice semantics, torch's
chunk sizes). On a symbolic size they assume the bounds fall inside the dimension, i.e. that
nothing is clipped:

* ``:`` keeps the size, ``1:`` gives ``L - 1``, ``2:-2`` gives ``L - 4``, ``::2`` gives
  ``ceil(L/2)``; bounds that both count from the same end give a number (``-3:`` is 3,
  ``:5`` is 5, ``2:5`` is 3);
* a slice whose bounds count from different ends (``-3:5``) gives an opaque size named after
  the slice, ``len(L[-3:5])``;
* an integer index is accepted on a symbolic size (it cannot be proven out of range).
"""

from __future__ import annotations

from graph_schema.catalog.helpers import empty_result, first, norm_axis, set_param_fix
from graph_schema.catalog.ops_common import ScalarOrList, bad_param, method
from graph_schema.catalog.params import ParamSpec, parse_slice_item
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, OpCall, ShapeError
from graph_schema.dims import Dim, Sym, ceil_div, exact_div, format_dim, format_shape


# -- getitem ---------------------------------------------------------------------------------
def _slice_size(size: Dim, item: slice, text: str) -> Dim:
    step = 1 if item.step is None else item.step
    if isinstance(size, int):
        return len(range(*item.indices(size)))
    start = 0 if item.start is None else item.start if item.start >= 0 else size + item.start
    stop = size if item.stop is None else item.stop if item.stop >= 0 else size + item.stop
    length = stop - start
    if isinstance(length, int):
        return max(0, -(-length // step))
    if isinstance(length - size, int):  # L + c: both bounds counted from the same end
        return ceil_div(length, step)
    return Sym.named(f"len({format_dim(size)}[{text}])")


def _parse_index(texts):
    items = []
    for text in texts:
        if not text:
            raise bad_param("index has an empty entry; use ':' to keep a dimension")
        item = parse_slice_item(text)
        if isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise bad_param(f"index {text!r}: PyTorch slices need a positive step; reverse a "
                            f"dimension with torch.flip instead")
        items.append(item)
    return items


def _getitem_rule(p, inputs):
    shape = first(inputs)
    texts = p["index"]
    items = _parse_index(texts)
    rank = len(shape)
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    written = "[" + ", ".join(texts) + "]"
    if used > rank:
        raise ShapeError(f"expected at least {used} dimensions to index with {written}, "
                         f"received {format_shape(shape)}", port=0, code="rank-mismatch")
    out: list[Dim] = []
    axis = 0
    for text, item in zip(texts, items):
        if item is Ellipsis:
            out.extend(shape[axis:axis + rank - used])
            axis += rank - used
        elif item is None:
            out.append(1)
        elif isinstance(item, int):
            size = shape[axis]
            if isinstance(size, int) and not -size <= item < size:
                raise ShapeError(
                    f"expected dimension {axis} to have more than "
                    f"{item if item >= 0 else -item - 1} entries for index {written}, received "
                    f"{format_shape(shape)}", port=0, code="bad-dim")
            axis += 1
        else:
            out.append(_slice_size(shape[axis], item, text))
            axis += 1
    out.extend(shape[axis:])
    for position, size in enumerate(out):
        if size == 0:
            raise empty_result(f"index {written}", position, shape)
    return [tuple(out)]


# -- split and chunk -------------------------------------------------------------------------
def _split_axis(p, shape):
    if not shape:
        raise ShapeError("expected an input with at least 1 dimension, received a scalar ()",
                         port=0, code="rank-mismatch")
    return norm_axis(p["dim"], len(shape), shape=shape)


def _with_size(shape, axis, size):
    return (*shape[:axis], size, *shape[axis + 1:])


def _split_rule(p, inputs):
    shape = first(inputs)
    axis = _split_axis(p, shape)
    size = shape[axis]
    split = p["split_size_or_sections"]
    if isinstance(split, tuple):
        if 0 in split:
            raise bad_param(f"split_size_or_sections {list(split)} has a section of size 0, "
                            f"which would be an empty tensor")
        total = sum(split)
        if isinstance(size, int) and total != size:
            rest = size - sum(split[:-1])
            fix = set_param_fix("split_size_or_sections", [*split[:-1], rest]) if rest >= 0 \
                else None
            raise ShapeError(
                f"expected dimension {axis} to have size {total} (the sum of the sections "
                f"{list(split)}), received {format_shape(shape)}", port=0, fix=fix)
        return [_with_size(shape, axis, s) for s in split]
    if split == 0:
        if size == 0:
            return [shape]
        raise bad_param(f"split_size_or_sections=0 can only split an empty dimension, but "
                        f"dimension {axis} of {format_shape(shape)} is {format_dim(size)}")
    if not isinstance(size, int):
        raise ShapeError(
            f"cannot split the symbolic size {format_dim(size)} of {format_shape(shape)} into "
            f"pieces of {split}: the number of outputs would depend on it; give dimension "
            f"{axis} a fixed size or list the sections", port=0, code="symbolic-size")
    count = max(-(-size // split), 1)
    sizes = [split] * (count - 1) + [size - split * (count - 1)]
    return [_with_size(shape, axis, s) for s in sizes]


def _chunk_rule(p, inputs):
    shape = first(inputs)
    axis = _split_axis(p, shape)
    size = shape[axis]
    chunks = p["chunks"]
    if not isinstance(size, int):
        # Assumes the symbolic size is at least `chunks`, so that torch returns all of them.
        equal = exact_div(size, chunks)
        if equal is not None:
            return [_with_size(shape, axis, equal)] * chunks
        piece = ceil_div(size, chunks)
        last = size - piece * (chunks - 1)
        return [_with_size(shape, axis, piece)] * (chunks - 1) + [_with_size(shape, axis, last)]
    piece = -(-size // chunks)
    if piece == 0:  # an empty dimension: torch returns `chunks` empty pieces
        return [shape] * chunks
    count = -(-size // piece)  # may be fewer than asked: 6 in 4 chunks gives 3 pieces of 2
    sizes = [piece] * (count - 1) + [size - piece * (count - 1)]
    return [_with_size(shape, axis, s) for s in sizes]


register(
    LayerSpec(
        type="op.getitem",
        family="reshape",
        rule=_getitem_rule,
        params=(ParamSpec("index", "index", required=True,
                          doc="one entry per dimension: 0, -1, ':', '1:-1:2', '...', 'None'"),),
        call=OpCall("getitem", "getitem"),
        summary_params=("index",),
        description="Indexes or slices the tensor (x[:, 0], x[..., 1:-1], x[:, None]): an "
                    "integer drops a dimension, a slice keeps it, None adds one.",
    ),
    LayerSpec(
        type="op.split",
        family="reshape",
        rule=_split_rule,
        params=(ScalarOrList("split_size_or_sections", "dims", required=True, minimum=0,
                             doc="a piece size, or a list of sizes summing to the dimension"),
                ParamSpec("dim", "int", default=0)),
        outputs=("chunk",),
        returns="sequence",
        call=method("split", positional=("split_size_or_sections",), keyword=("dim",)),
        summary_params=("split_size_or_sections", "dim"),
        description="Cuts the tensor along dim (x.split) into pieces of a given size (the last "
                    "may be smaller) or into listed sizes; one output per piece.",
    ),
    LayerSpec(
        type="op.chunk",
        family="reshape",
        rule=_chunk_rule,
        params=(ParamSpec("chunks", "int", required=True, minimum=1),
                ParamSpec("dim", "int", default=0)),
        outputs=("chunk",),
        returns="sequence",
        call=method("chunk", positional=("chunks",), keyword=("dim",)),
        summary_params=("chunks", "dim"),
        description="Cuts the tensor along dim into pieces of ceil(size / chunks) (x.chunk); "
                    "torch returns fewer pieces when the size runs out first.",
    ),
)
