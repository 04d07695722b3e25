"""Handlers for tensor operations in a traced graph (op_table.py says which op is which).

Each handler reads one ``call_function`` / ``call_method`` node: which arguments are tensors
(they become edges, in port order) and which are values (they become params). Anything not
covered raises Untraceable, and the class that uses it is kept as source instead.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.tracer import TRAINING
from codegen.importer.values import BATCH, TensorInfo

PASS = "pass"  # an op that returns its input unchanged: drawn as nothing


@dataclass
class OpDraft:
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: list[Any] = field(default_factory=list)  # tensor arguments, in port order


def bind(node: fx.Node, names: list[tuple[str, Any]]) -> dict[str, Any]:
    """The node's arguments by name: the first positional is the tensor (``input``), then
    ``names`` in order, each with its default."""
    args = list(node.args)
    kwargs = dict(node.kwargs)
    bound = {"input": args.pop(0) if args else kwargs.pop("input", kwargs.pop("self", None))}
    for index, (name, default) in enumerate(names):
        if index < len(args):
            bound[name] = args[index]
        else:
            bound[name] = kwargs.pop(name, default)
    if len(args) > len(names) or kwargs:
        raise Untraceable(f"{label(node)} is called with arguments TorchCanvas does not draw "
                          f"({', '.join(kwargs) or 'extra positional arguments'})")
    return bound


def label(node: fx.Node) -> str:
    target = node.target if isinstance(node.target, str) else \
        getattr(node.target, "__name__", str(node.target))
    return f"{target}()"


def _scalar(ctx: Context, arg: Any, node: fx.Node) -> int | float:
    """A number combined with a tensor, whole or decimal as written: ``ids + 1`` stays int64,
    ``ids + 1.0`` is float32."""
    value = ctx.constant(arg, label(node))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Untraceable(f"{label(node)} combines a tensor with {value!r}")
    return value


# -- arithmetic ------------------------------------------------------------------------------
def binary_op(kind: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        a, b, *rest = node.args
        if rest or set(node.kwargs) - {"alpha"} or node.kwargs.get("alpha", 1) != 1:
            raise Untraceable(f"{label(node)} with alpha or extra arguments")
        left, right = ctx.is_tensor(a), ctx.is_tensor(b)
        if left and right:
            return OpDraft(f"op.{kind}", {}, [a, b])
        if left:
            value = _scalar(ctx, b, node)
            scalar = {"add": ("op.add_scalar", "value", value),
                      "sub": ("op.add_scalar", "value", -value),
                      "mul": ("op.scale", "factor", value),
                      "div": ("op.div_scalar", "value", value)}[kind]
            return OpDraft(scalar[0], {scalar[1]: scalar[2]}, [a])
        if right:
            value = _scalar(ctx, a, node)
            scalar = {"add": ("op.add_scalar", "value"), "sub": ("op.rsub", "value"),
                      "mul": ("op.scale", "factor")}.get(kind)
            if scalar is None:
                raise Untraceable(f"{label(node)}: a number divided by a tensor")
            return OpDraft(scalar[0], {scalar[1]: value}, [b])
        raise Untraceable(f"{label(node)} without a tensor")
    return handle


def pow_op(ctx: Context, node: fx.Node) -> OpDraft:
    base, exponent = node.args[:2]
    if not ctx.is_tensor(base) or ctx.is_tensor(exponent):
        raise Untraceable("pow() other than tensor ** number")
    return OpDraft("op.pow", {"exponent": float(_scalar(ctx, exponent, node))}, [base])


def simple_op(type_name: str, names: list[tuple[str, Any]] = (), keep: tuple[str, ...] = (),
            ignore: dict[str, Any] | None = None):
    """An op whose params are some of its call's arguments; ``ignore`` lists arguments that
    must have the given value (inplace=False ...) or may be dropped (None)."""
    ignore = ignore or {}

    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        bound = bind(node, list(names))
        params = {}
        for name, _default in names:
            value = ctx.constant(bound[name], label(node))
            if name in ignore:
                if ignore[name] is not None and value != ignore[name]:
                    raise Untraceable(f"{label(node)} with {name}={value!r}")
                continue
            if name in keep:
                params[name] = _jsonable(value)
        return OpDraft(type_name, params, [bound["input"]])
    return handle


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# -- shapes ----------------------------------------------------------------------------------
def _sizes(ctx: Context, node: fx.Node, start: int = 1) -> list:
    items = list(node.args[start:])
    if len(items) == 1 and isinstance(ctx.value(items[0]), (tuple, list)):
        items = list(items[0]) if isinstance(items[0], (tuple, list)) else \
            [_Element(items[0], i) for i in range(len(ctx.value(items[0])))]
    if node.kwargs:
        raise Untraceable(f"{label(node)} with keyword arguments")
    return items


class _Element:
    """Item ``index`` of a size tuple that is itself a graph value (``x.view(x.shape)``)."""

    def __init__(self, node: fx.Node, index: int):
        self.node, self.index = node, index


def _size_item(ctx: Context, item: Any, node: fx.Node) -> int | str:
    if isinstance(item, _Element):
        first = ctx.value(item.node)[item.index]
        second = ctx.second(item.node)
        other = second[item.index] if isinstance(second, (tuple, list)) else None
        return ctx.batch.size(first, other)
    return ctx.size(item, label(node))


def reshape_op(kind: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        shape = [_size_item(ctx, i, node) for i in _sizes(ctx, node)]
        shape = _batch_from_count(ctx, node.args[0], _one_free(shape))
        return OpDraft(f"op.{kind}", {"shape": shape}, [node.args[0]])
    return handle


def _batch_from_count(ctx: Context, source: Any, shape: list) -> list:
    """``x.view(size_out)`` back to (N, L, E) from a flattened (N*L, E), as GPT-2's Conv1D
    does: the reshaped tensor has no dimension that is the batch to read N from, so N is
    written -1, which the element count gives back."""
    if shape.count(BATCH) != 1 or -1 in shape:
        return shape
    value = ctx.value(source)
    if not isinstance(value, TensorInfo) or BATCH in ctx.batch.shape(value, ctx.second(source)):
        return shape
    return [-1 if size == BATCH else size for size in shape]


def _one_free(shape: list) -> list:
    """``w.view(b, c, 1, 1)`` as ``w.view(N, -1, 1, 1)``: the same reshape (the element count
    fixes the free size), and one that every channel count shares, so blocks that differ only
    there stay one block."""
    sizes = [i for i, s in enumerate(shape) if isinstance(s, int) and s not in (1, -1)]
    if -1 not in shape and len(sizes) == 1:
        shape = list(shape)
        shape[sizes[0]] = -1
    return shape


def permute_op(ctx: Context, node: fx.Node) -> OpDraft:
    dims = [ctx.constant(d, "permute()") for d in _sizes(ctx, node)]
    return OpDraft("op.permute", {"dims": dims}, [node.args[0]])


def expand_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``x.expand(2, -1)``; or, with a size read from another tensor (a class token expanded
    to the batch, ``cls.expand(x.shape[0], -1, -1)``), ``op.expand_to`` wired to it."""
    sizes, like = [], None
    for item in _sizes(ctx, node):
        size = _size_item(ctx, item, node)
        if isinstance(size, str):
            source = size_source(ctx, item)
            if source is None or like not in (None, source):
                ctx.warnings.append(f"{ctx.where()}: expand() follows the batch size; the "
                                    f"diagram keeps {ctx.batch.first}")
                size = ctx.batch.first
            else:
                like = source
        sizes.append(size)
    if like is not None:
        return OpDraft("op.expand_to", {"sizes": sizes}, [node.args[0], like])
    return OpDraft("op.expand", {"sizes": sizes}, [node.args[0]])


def size_source(ctx: Context, item: Any) -> fx.Node | None:
    """The tensor a size was read from: ``t.size(0)``, ``t.shape[0]``, ``t.size()[0]``."""
    if isinstance(item, _Element):
        item = item.node
        base = item
    elif isinstance(item, fx.Node) and item.target is operator.getitem:
        base = item.args[0]
    else:
        base = item
    if not isinstance(base, fx.Node):
        return None
    if base.op == "call_method" and base.target == "size":
        tensor = base.args[0]
    elif base.op == "call_function" and base.target is getattr and base.args[1] == "shape":
        tensor = base.args[0]
    else:
        return None
    return tensor if ctx.is_tensor(tensor) else None


def getitem_op(ctx: Context, node: fx.Node) -> OpDraft:
    base, index = node.args
    items = index if isinstance(index, tuple) else (index,)
    texts = []
    for item in items:
        value = ctx.value(item)
        if item is None or value is None:
            texts.append("None")
        elif item is Ellipsis:
            texts.append("...")
        elif isinstance(value, slice):
            parts = [ctx.constant(p, "indexing") for p in (item.start, item.stop, item.step)]
            if any(p is not None and (isinstance(p, bool) or not isinstance(p, int))
                   for p in parts):
                raise Untraceable(f"indexing with {value!r}")
            start, stop, step = ("" if p is None else str(p) for p in parts)
            texts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif isinstance(value, int) and not isinstance(value, bool):
            texts.append(str(ctx.constant(item, "indexing")))
        else:
            raise Untraceable(f"indexing with {value!r} (only numbers, slices, None and ...)")
    return OpDraft("op.getitem", {"index": texts}, [base])


def tensors_with_dim_op(type_name: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        args = list(node.args)
        tensors = args.pop(0) if args else node.kwargs.get("tensors")
        dim = args[0] if args else node.kwargs.get("dim", 0)
        if set(node.kwargs) - {"dim", "tensors"} or not isinstance(tensors, (list, tuple)):
            raise Untraceable(f"{label(node)} with unusual arguments")
        if not all(ctx.is_tensor(t) for t in tensors):
            raise Untraceable(f"{label(node)} of something other than tensors")
        return OpDraft(type_name, {"dim": ctx.constant(dim, label(node))}, list(tensors))
    return handle


def reduce_op(kind: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        bound = bind(node, [("dim", None), ("keepdim", False), ("dtype", None)])
        if ctx.value(bound["dtype"]) is not None:
            raise Untraceable(f"{label(node)} with dtype")
        dim = _jsonable(ctx.constant(bound["dim"], label(node)))
        params = {"keepdim": ctx.constant(bound["keepdim"], label(node))}
        if dim is not None:
            params["dim"] = dim
        return OpDraft(f"op.{kind}", params, [bound["input"]])
    return handle


def max_op(ctx: Context, node: fx.Node) -> OpDraft:
    if len(node.args) > 1 and ctx.is_tensor(node.args[1]):
        raise Untraceable("max() of two tensors")
    bound = bind(node, [("dim", None), ("keepdim", False)])
    dim = ctx.constant(bound["dim"], "max()")
    if dim is None:
        return OpDraft("op.amax", {}, [bound["input"]])
    return OpDraft("op.max", {"dim": dim, "keepdim": ctx.constant(bound["keepdim"], "max()")},
                   [bound["input"]])


def softmax_op(kind: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        bound = bind(node, [("dim", None), ("_stacklevel", 3), ("dtype", None)])
        dim = ctx.constant(bound["dim"], label(node))
        if dim is None or ctx.value(bound["dtype"]) is not None:
            raise Untraceable(f"{label(node)} without dim (or with dtype)")
        return OpDraft(f"op.{kind}", {"dim": dim}, [bound["input"]])
    return handle


def dropout_op(ctx: Context, node: fx.Node) -> OpDraft:
    """``F.dropout(x, p, training=self.training)`` is exactly ``nn.Dropout(p)``."""
    bound = bind(node, [("p", 0.5), ("training", True), ("inplace", False)])
    follows = TRAINING in ctx.visit.traced.follows_training.get(node.name, set())
    training = ctx.constant(bound["training"], "dropout()")
    p = ctx.constant(bound["p"], "dropout()")
    if follows:
        return OpDraft("nn.Dropout", {} if p == 0.5 else {"p": p}, [bound["input"]])
    if training is False or p == 0:
        return OpDraft(PASS, {}, [bound["input"]])  # does nothing: no node
    raise Untraceable("F.dropout with training=True even in evaluation")


def twin_op(type_name: str, names: list[tuple[str, Any]], drop=("inplace",)):
    keep = tuple(n for n, _ in names if n not in drop)
    return simple_op(type_name, names, keep=keep, ignore=dict.fromkeys(drop))


_SQUEEZE = [("dim", None)]
_POOL_MAX = [("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1),
             ("ceil_mode", False), ("return_indices", False)]
POOL_AVG = [("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False),
             ("count_include_pad", True), ("divisor_override", None)]


def max_pool_op(name: str):
    handle = simple_op(f"op.{name}", _POOL_MAX,
                     keep=("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
                     ignore={"return_indices": False})
    return handle


def interpolate_op(ctx: Context, node: fx.Node) -> OpDraft:
    names = [("size", None), ("scale_factor", None), ("mode", "nearest"),
             ("align_corners", None), ("recompute_scale_factor", None), ("antialias", False)]
    return simple_op("op.interpolate", names, keep=("size", "scale_factor", "mode",
                                                  "align_corners"),
                   ignore={"recompute_scale_factor": None, "antialias": False})(ctx, node)


def unsqueeze_op(ctx: Context, node: fx.Node) -> OpDraft:
    bound = bind(node, [("dim", None)])
    return OpDraft("op.unsqueeze", {"dim": ctx.constant(bound["dim"], "unsqueeze()")},
                   [bound["input"]])


def squeeze_op(ctx: Context, node: fx.Node) -> OpDraft:
    dims = [ctx.constant(d, "squeeze()") for d in node.args[1:]]
    dims += [ctx.constant(node.kwargs["dim"], "squeeze()")] if "dim" in node.kwargs else []
    flat = [d for item in dims for d in (item if isinstance(item, (tuple, list)) else [item])]
    return OpDraft("op.squeeze", {"dim": flat} if flat else {}, [node.args[0]])


def split_op(kind: str, first: str):
    def handle(ctx: Context, node: fx.Node) -> OpDraft:
        bound = bind(node, [(first, None), ("dim", 0)])
        return OpDraft(f"op.{kind}", {first: _jsonable(ctx.constant(bound[first], kind)),
                                      "dim": ctx.constant(bound["dim"], kind)},
                       [bound["input"]])
    return handle
