"""The building blocks of export_ops.py: where translated calls go (Emit), an ATen op's
arguments by name, and the handlers that turn one op into torch calls.

A handler takes the op's arguments by their schema names, defaults filled in, and writes
the call a person would have written, leaving out what only restates a default.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from codegen.importer.import_errors import Untraceable

INT64_MAX = 2**63 - 1  # what ATen writes for "to the end" in a slice


class Emit:
    """Where translated calls go: the new graph, and a tensor to take the device from."""

    def __init__(self, graph: fx.Graph):
        self.graph = graph
        self.device_source: fx.Node | None = None  # a tensor of the graph, for its device
        self._device: fx.Node | None = None

    def function(self, target: Callable, *args: Any, **kwargs: Any) -> fx.Node:
        return self.graph.call_function(target, args, kwargs)

    def method(self, name: str, *args: Any, **kwargs: Any) -> fx.Node:
        return self.graph.call_method(name, args, kwargs)

    def device(self, baked: Any) -> Any:
        """The device a factory op should use: that of a tensor the graph holds (the model
        wrote ``device=x.device``, the trace kept only the value)."""
        if baked is None or self.device_source is None:
            return baked
        if self._device is None:
            self._device = self.function(getattr, self.device_source, "device")
        return self._device


Values = dict[str, Any]


@dataclass
class Op:
    """One ATen op of the exported graph, with its arguments in the new graph."""

    node: fx.Node
    args: tuple
    kwargs: dict


Handler = Callable[[Emit, Values, Op], Any]


def schema_values(op: torch._ops.OpOverload, args: tuple, kwargs: dict) -> Values:
    """The op's arguments by their schema names, defaults filled in."""
    values: Values = {}
    positional = list(args)
    for argument in op._schema.arguments:
        if positional and not argument.kwarg_only:
            values[argument.name] = positional.pop(0)
        elif argument.name in kwargs:
            values[argument.name] = kwargs[argument.name]
        elif argument.has_default_value():
            values[argument.name] = argument.default_value
        else:
            values[argument.name] = None
    return values


def _unless(values: Values, **defaults: Any) -> dict[str, Any]:
    """The named arguments whose value is not the given default, as keywords."""
    return {name: values[name] for name, default in defaults.items()
            if not _is_default(values.get(name), default)}


def _is_default(value: Any, default: Any) -> bool:
    """``padding=0`` is ``padding=[0, 0]``: ATen writes a repeated size either way."""
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    if isinstance(default, (list, tuple)) and isinstance(value, int):
        return all(item == value for item in default)
    if isinstance(value, (list, tuple)) and isinstance(default, int):
        return all(item == default for item in value)
    return value == default


# -- handlers that make them -----------------------------------------------------------------
def function(target: Callable, *names: str, **optional: Any) -> Handler:
    """``target(*names, **optional)``, each optional one only when it is not its default."""
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        return emit.function(target, *[values[n] for n in names], **_unless(values, **optional))
    return handle


def method(name: str, *names: str, splat: str | None = None, **optional: Any) -> Handler:
    """``self.name(*names, *splat, **optional)``: ``view(x, [a, b])`` is ``x.view(a, b)``."""
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        spread = list(values[splat]) if splat else []
        return emit.method(name, values["self"], *[values[n] for n in names], *spread,
                           **_unless(values, **optional))
    return handle


def binary(target: Callable, with_alpha: Callable | None = None) -> Handler:
    """``a + b`` (``operator.add``); ``torch.add(a, b, alpha=2)`` when there is an alpha."""
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        a, b = values["self"], values["other"]
        alpha = values.get("alpha", 1)
        if alpha != 1 and with_alpha is not None:
            return emit.function(with_alpha, a, b, alpha=alpha)
        return emit.function(target, a, b)
    return handle


def in_place(name: str) -> Handler:
    """``x.add_(y)``: a Tensor method, so the change stays in place."""
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        alpha = values.get("alpha", 1)
        return emit.method(name, values["self"], values["other"],
                           **({} if alpha == 1 else {"alpha": alpha}))
    return handle


def conv(target: Callable, dims: int) -> Handler:
    return function(target, "input", "weight", "bias", stride=[1] * dims,
                    padding=[0] * dims, dilation=[1] * dims, groups=1)


def conv_transpose(target: Callable, dims: int) -> Handler:
    return function(target, "input", "weight", "bias", stride=[1] * dims,
                    padding=[0] * dims, output_padding=[0] * dims, groups=1,
                    dilation=[1] * dims)


def max_pool(target: Callable, dims: int) -> Handler:
    # ATen's stride=[] is "the kernel size", F's stride=None
    return function(target, "self", "kernel_size", stride=[], padding=[0] * dims,
                    dilation=[1] * dims, ceil_mode=False)


def avg_pool(target: Callable, dims: int) -> Handler:
    return function(target, "self", "kernel_size", stride=[], padding=[0] * dims,
                    ceil_mode=False, count_include_pad=True, divisor_override=None)


def rsub(emit: Emit, values: Values, op: Op) -> Any:
    if values.get("alpha", 1) != 1:
        return emit.function(torch.rsub, values["self"], values["other"], alpha=values["alpha"])
    return emit.function(operator.sub, values["other"], values["self"])


def divide(emit: Emit, values: Values, op: Op) -> Any:
    mode = values.get("rounding_mode")
    if mode is None:
        return emit.function(operator.truediv, values["self"], values["other"])
    return emit.function(torch.div, values["self"], values["other"], rounding_mode=mode)


def _index(emit: Emit, values: Values, dim: int, item: Any) -> Any:
    """``x[(:, ) * dim + (item,)]``; a negative dim counts from the end (``x[..., item]``)."""
    if dim >= 0:
        index = (*[slice(None)] * dim, item)
    else:
        index = (Ellipsis, item, *[slice(None)] * (-dim - 1))
    return emit.function(operator.getitem, values["self"], index[0] if len(index) == 1
                         else index)


def slicing(emit: Emit, values: Values, op: Op) -> Any:
    start, end, step = values["start"], values["end"], values["step"]
    item = slice(None if start in (0, None) else start,
                 None if end in (INT64_MAX, None) else end,
                 None if step == 1 else step)
    if item == slice(None):
        return values["self"]  # x[:, :3] is traced as a slice of every dimension it names
    return _index(emit, values, values["dim"], item)


def selecting(emit: Emit, values: Values, op: Op) -> Any:
    return _index(emit, values, values["dim"], values["index"])


def indexing(emit: Emit, values: Values, op: Op) -> Any:
    """``x[idx]``, ``x[:, idx]``: ATen writes a skipped dimension as None."""
    items = tuple(slice(None) if i is None else i for i in values["indices"])
    return emit.function(operator.getitem, values["self"], items[0] if len(items) == 1
                         else items)


def transpose_2d(emit: Emit, values: Values, op: Op) -> Any:
    """``x.t()``: a transpose of the two dimensions of a matrix (a vector stays itself)."""
    if _rank(op.node.args[0]) == 2:
        return emit.method("transpose", values["self"], 0, 1)
    return emit.method("t", values["self"])


def _rank(arg: Any) -> int | None:
    value = arg.meta.get("val") if isinstance(arg, fx.Node) else None
    return value.dim() if isinstance(value, torch.Tensor) else None


def embedding(emit: Emit, values: Values, op: Op) -> Any:
    padding = values["padding_idx"]
    return emit.function(F.embedding, values["indices"], values["weight"],
                         **({} if padding == -1 else {"padding_idx": padding}),
                         **_unless(values, scale_grad_by_freq=False, sparse=False))


def dropout(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(F.dropout, values["input"], p=values["p"], training=values["train"])


def attention(emit: Emit, values: Values, op: Op) -> Any:
    """dropout_p is always written: it is the argument that follows self.training."""
    return emit.function(F.scaled_dot_product_attention, values["query"], values["key"],
                         values["value"], **_unless(values, attn_mask=None),
                         dropout_p=values["dropout_p"],
                         **_unless(values, is_causal=False, scale=None, enable_gqa=False))


def batch_norm(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(F.batch_norm, values["input"], values["running_mean"],
                         values["running_var"], values["weight"], values["bias"],
                         values["training"], values["momentum"], values["eps"])


def instance_norm(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(F.instance_norm, values["input"], values["running_mean"],
                         values["running_var"], values["weight"], values["bias"],
                         values["use_input_stats"], values["momentum"], values["eps"])


def upsample(mode: str) -> Handler:
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        extra = {} if "align_corners" not in values else \
            {"align_corners": values["align_corners"]}
        size, scale = values.get("output_size"), values.get("scale_factors")
        return emit.function(F.interpolate, values["input"],
                             **({"size": size} if size is not None else {}),
                             **({"scale_factor": scale} if scale is not None else {}),
                             mode=mode, **extra)
    return handle


def constant_pad(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(F.pad, values["self"], values["pad"], **_unless(values, value=0))


def padding(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(F.pad, values["self"], values["pad"],
                         **_unless(values, mode="constant", value=None))


def einsum(emit: Emit, values: Values, op: Op) -> Any:
    return emit.function(torch.einsum, values["equation"], *values["tensors"])


def cast(emit: Emit, values: Values, op: Op) -> Any:
    """``x.to(dtype)``; a device is the tensor's own one (the trace baked in a value), and
    a copy with neither is ``x.clone()``."""
    dtype = values.get("dtype")
    if dtype is not None:
        return emit.method("to", values["self"], dtype)
    if values.get("device") is not None:
        return values["self"]
    return emit.method("clone", values["self"])


_FACTORY_DEFAULTS = {"layout": None, "pin_memory": None, "memory_format": None}


def factory(target: Callable, *names: str) -> Handler:
    """``torch.arange(n, dtype=..., device=x.device)``: positional sizes, then dtype and the
    device, taken from a tensor of the graph."""
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        keywords = {"dtype": values["dtype"]} if values.get("dtype") is not None else {}
        device = emit.device(values.get("device"))
        if device is not None:
            keywords["device"] = device
        for name, default in _FACTORY_DEFAULTS.items():
            if values.get(name, default) not in (default, False, torch.strided,
                                                  torch.contiguous_format,
                                                  torch.preserve_format):
                raise Untraceable(f"{target.__name__}() with {name}={values[name]!r}")
        return emit.function(target, *[values[n] for n in names], **keywords)
    return handle


def arange(emit: Emit, values: Values, op: Op) -> Any:
    if "start" not in values:
        return factory(torch.arange, "end")(emit, values, op)
    if values.get("step", 1) == 1:
        return factory(torch.arange, "start", "end")(emit, values, op)
    return factory(torch.arange, "start", "end", "step")(emit, values, op)


def like(target: Callable, *names: str) -> Handler:
    def handle(emit: Emit, values: Values, op: Op) -> Any:
        keywords = {"dtype": values["dtype"]} if values.get("dtype") is not None else {}
        return emit.function(target, values["self"], *[values[n] for n in names], **keywords)
    return handle


def identity(emit: Emit, values: Values, op: Op) -> Any:
    first = op.node.target._schema.arguments[0].name
    return values[first]


def dropped(emit: Emit, values: Values, op: Op) -> Any:
    return None  # a check the trace added (sizes, dtypes): not part of the model
