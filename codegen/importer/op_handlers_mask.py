"""Handlers for the ops GPT-2's root builds its mask from (graph_schema/catalog/ops_mask.py):
casts (``x.to(torch.bool)``, ``x.float()``), ``cumsum``, ``torch.diff``, indexing by index
tensors (``padding[batch_idx, kv_idx]``) and ``x.new_ones(size, dtype=...)``."""

from __future__ import annotations

from typing import Any

import torch
from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.op_handlers import OpDraft, bind, getitem_op, label
from codegen.importer.values import TensorInfo, dtype_name
from graph_schema.catalog.params import DTYPES

# x.float() and the like: a cast written as a method of its own
CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16",
                "bfloat16": "bfloat16", "long": "int64", "int": "int32", "bool": "bool"}


def _dtype(ctx: Context, arg: Any, node: fx.Node) -> str:
    """A dtype argument: ``torch.bool``, or ``other.dtype`` read off a tensor (its recorded
    type)."""
    if isinstance(arg, fx.Node) and arg.op == "call_function" and arg.target is getattr and \
            arg.args[1] == "dtype" and isinstance(ctx.value(arg.args[0]), TensorInfo):
        name = ctx.value(arg.args[0]).dtype
    elif isinstance(arg, torch.dtype):
        name = dtype_name(arg)
    else:
        raise Untraceable(f"{label(node)} with {ctx.value(arg)!r}, which is not a dtype the "
                          f"catalog draws")
    if name not in DTYPES:
        raise Untraceable(f"{label(node)} casts to {name}, which the catalog has no type for")
    return name


def to_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``x.to(torch.bool)`` or ``x.to(dtype=...)``; a move to a device is not drawn (the
    generated model moves as a whole)."""
    args, kwargs = list(node.args[1:]), dict(node.kwargs)
    dtype = kwargs.pop("dtype", args.pop(0) if args else None)
    if args or set(kwargs) - {"copy", "non_blocking"} or kwargs.get("copy"):
        raise Untraceable(f"{label(node)} with arguments other than a dtype")
    return OpDraft("op.to", {"dtype": _dtype(ctx, dtype, node)}, [node.args[0]])


def cast_method_op(method: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        if len(node.args) != 1 or node.kwargs:
            raise Untraceable(f"{label(node)} with arguments")
        return OpDraft("op.to", {"dtype": CAST_METHODS[method]}, [node.args[0]])
    return handle


def cumsum_op(ctx: Context, node: fx.Node) -> OpDraft:
    bound = bind(node, [("dim", None), ("dtype", None)])
    if bound["dtype"] is not None:
        raise Untraceable(f"{label(node)} with a dtype")
    dim = ctx.constant(bound["dim"], label(node))
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise Untraceable(f"{label(node)} without a whole-number dim")
    return OpDraft("op.cumsum", {"dim": dim}, [bound["input"]])


def diff_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``torch.diff(x, n, dim, prepend, append)``; prepend and append are tensors (ports)."""
    bound = bind(node, [("n", 1), ("dim", -1), ("prepend", None), ("append", None)])
    params = {name: ctx.constant(bound[name], label(node)) for name in ("n", "dim")}
    inputs = [bound["input"]]
    for name in ("prepend", "append"):
        value = bound[name]
        if value is None:
            continue
        if not ctx.is_tensor(value):
            raise Untraceable(f"{label(node)} with {name}={ctx.value(value)!r} (a tensor is "
                              f"drawn, a number is not)")
        if name == "append" and bound["prepend"] is None:
            raise Untraceable(f"{label(node)} with append but no prepend")
        inputs.append(value)
    return OpDraft("op.diff", params, inputs)


def index_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``x[i, j]`` with integer index tensors is op.index; any other index, op.getitem."""
    base, index = node.args
    items = index if isinstance(index, (tuple, list)) else (index,)
    tensors = [item for item in items if ctx.is_tensor(item)]
    if not tensors:
        return getitem_op(ctx, node)
    if len(tensors) != len(items):
        raise Untraceable("indexing with tensors mixed with slices or numbers")
    for item in tensors:
        dtype = ctx.value(item).dtype
        if dtype not in ("int64", "int32"):
            raise Untraceable(f"indexing with a {dtype} tensor (a mask picks a number of "
                              f"elements no diagram knows before run time)")
    return OpDraft("op.index", {}, [base, *tensors])


def new_ones_op(ctx: Context, node: fx.Node) -> OpDraft:
    bound = bind(node, [("size", None), ("dtype", None), ("device", None),
                        ("requires_grad", False)])
    size = ctx.constant(bound["size"], label(node))
    if not isinstance(size, (list, tuple)) or \
            any(isinstance(s, bool) or not isinstance(s, int) for s in size):
        raise Untraceable(f"{label(node)} with a size other than a list of whole numbers")
    params: dict[str, Any] = {"size": list(size)}
    if bound["dtype"] is not None:
        params["dtype"] = _dtype(ctx, bound["dtype"], node)
    if bound["requires_grad"] or bound["device"] is not None:
        raise Untraceable(f"{label(node)} with a device or requires_grad (a new tensor is "
                          f"drawn where its input lives)")
    return OpDraft("op.new_ones", params, [bound["input"]])
