"""Handlers for the ops attention masks are built from: comparisons (``a < b``, ``x.eq(0)``),
boolean logic (``causal & padding``, ``~mask``) and ``torch.arange`` counting positions."""

from __future__ import annotations

from typing import Any

from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.op_handlers import OpDraft, label, size_source

# a number on the left, ``0 < x``, is ``x > 0``: the same question with the sides swapped
_SWAPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def _number(ctx: Context, arg: Any, node: fx.Node) -> int | float:
    value = ctx.constant(arg, label(node))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Untraceable(f"{label(node)} compares a tensor with {value!r}")
    return value


def compare_op(kind: str):
    """``a < b`` between tensors is op.lt; with a number on either side, op.lt_scalar."""
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        if len(node.args) != 2 or node.kwargs:
            raise Untraceable(f"{label(node)} with other than two arguments")
        a, b = node.args
        left, right = ctx.is_tensor(a), ctx.is_tensor(b)
        if left and right:
            return OpDraft(f"op.{kind}", {}, [a, b])
        if left:
            return OpDraft(f"op.{kind}_scalar", {"value": _number(ctx, b, node)}, [a])
        if right:
            return OpDraft(f"op.{_SWAPPED[kind]}_scalar", {"value": _number(ctx, a, node)}, [b])
        raise Untraceable(f"{label(node)} without a tensor")
    return handle


def _bool_tensors(ctx: Context, node: fx.Node, tensors: list) -> None:
    """``&``, ``|`` and ``~`` are logic only on bool tensors; on integers they work bit by bit,
    which no node draws."""
    for item in tensors:
        if not ctx.is_tensor(item):
            raise Untraceable(f"{label(node)} takes {ctx.value(item)!r} where a bool tensor goes")
        dtype = ctx.value(item).dtype
        if dtype != "bool":
            raise Untraceable(f"{label(node)} on a {dtype} tensor works bit by bit, which the "
                              f"catalog has no node for")


def logic_op(kind: str, bitwise: bool = False):
    """torch.logical_and(a, b); with ``bitwise`` (``a & b``), only on bool tensors."""
    count = 1 if kind == "not" else 2

    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        if len(node.args) != count or node.kwargs:
            raise Untraceable(f"{label(node)} with other than {count} tensor arguments")
        tensors = list(node.args)
        if bitwise:
            _bool_tensors(ctx, node, tensors)
        return OpDraft(f"op.logical_{kind}", {}, tensors)
    return handle


def _device_source(ctx: Context, device: Any) -> fx.Node | None:
    """The tensor of ``device=x.device``."""
    if isinstance(device, fx.Node) and device.op == "call_function" and \
            device.target is getattr and device.args[1] == "device" and \
            ctx.is_tensor(device.args[0]):
        return device.args[0]
    return None


def arange_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``torch.arange(x.size(1), device=x.device)``: op.arange wired to the tensor that lends
    its device (or, failing that, the size counted to), so the positions live with the model."""
    kwargs = dict(node.kwargs)
    device = kwargs.pop("device", None)
    if kwargs.pop("dtype", None) is not None or kwargs.pop("requires_grad", False) or kwargs:
        raise Untraceable("arange() with a dtype or arguments TorchCanvas does not draw")
    names = {1: ("end",), 2: ("start", "end"), 3: ("start", "end", "step")}.get(len(node.args))
    if names is None:
        raise Untraceable("arange() without end, or with more than start, end and step")
    params, sources = {}, []
    for name, arg in zip(names, node.args):
        value = ctx.value(arg)
        if isinstance(value, int) and not isinstance(value, bool):
            params[name] = ctx.size(arg, "arange()")
        else:
            params[name] = _number(ctx, arg, node)
        sources.append(size_source(ctx, arg))
    like = _device_source(ctx, device) or next((s for s in sources if s is not None), None)
    if like is None:
        raise Untraceable("arange() with no tensor to take its device from (write "
                          "device=x.device)")
    if any(isinstance(v, str) for n, v in params.items() if n != "end"):
        raise Untraceable("arange() starting or stepping by the batch size")
    return OpDraft("op.arange", params, [like])


# -- what the masks are for ------------------------------------------------------------------
def masked_fill_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``scores.masked_fill(mask, -1e4)``: a number; a tensor fill value is not drawn."""
    if len(node.args) != 3 or node.kwargs:
        raise Untraceable("masked_fill() with other than a mask and a value")
    x, mask, value = node.args
    if not ctx.is_tensor(mask) or ctx.value(mask).dtype != "bool":
        raise Untraceable("masked_fill() with a mask that is not a bool tensor")
    return OpDraft("op.masked_fill", {"value": _number(ctx, value, node)}, [x, mask])


def where_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``torch.where(condition, a, b)`` between tensors (its one-argument form finds indices,
    whose count no design-time shape knows)."""
    if len(node.args) != 3 or node.kwargs:
        raise Untraceable("torch.where() with other than a condition and two tensors")
    return OpDraft("op.where", {}, list(node.args))
