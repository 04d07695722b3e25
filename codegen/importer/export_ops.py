"""torch.export's ATen ops as the torch calls the rest of the importer already reads.

torch.export records ``aten.linear.default(x, w, b)`` where the model wrote ``F.linear(x, w,
b)``, and ``aten.slice.Tensor(x, 1, 0, 4)`` where it wrote ``x[:, :4]``. op_table.py knows
the torch names (torch functions, Tensor methods, ``operator.*``), so each ATen op is turned
back into the call a person would have written: a table for the ops whose torch form differs
from their ATen form (argument order, a tensor method, indexing), and for the rest the torch
function of the same name with the same arguments, which is how ATen names its ops.

Every handler reads the op's arguments by name from its schema, defaults filled in, and drops
the arguments that only say "the default" (``layout``, ``pin_memory``, ``memory_format``), so
the graph reads like a traced one. A device baked in by the trace (``arange(8, device=cpu)``)
is taken from a tensor of the graph instead, so the graph runs on meta tensors too.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from codegen.importer import export_handlers as h
from codegen.importer.export_handlers import Emit, Handler, Op, Values, schema_values
from codegen.importer.import_errors import Untraceable

# Keyed by "name.overload" first, then by "name".
HANDLERS: dict[str, Handler] = {
    # arithmetic and comparisons: operators, as written in Python
    "add": h.binary(operator.add, torch.add), "sub": h.binary(operator.sub, torch.sub),
    "mul": h.binary(operator.mul), "div": h.divide, "rsub": h.rsub,
    "neg": h.function(operator.neg, "self"),
    "pow.Tensor_Scalar": h.function(operator.pow, "self", "exponent"),
    "pow.Tensor_Tensor": h.function(operator.pow, "self", "exponent"),
    "eq": h.binary(operator.eq), "ne": h.binary(operator.ne), "lt": h.binary(operator.lt),
    "le": h.binary(operator.le), "gt": h.binary(operator.gt), "ge": h.binary(operator.ge),
    "bitwise_and": h.binary(operator.and_), "bitwise_or": h.binary(operator.or_),
    "bitwise_xor": h.binary(operator.xor), "bitwise_not": h.function(operator.invert, "self"),
    "remainder": h.binary(operator.mod), "floor_divide": h.binary(operator.floordiv),
    "add_": h.in_place("add_"), "sub_": h.in_place("sub_"), "mul_": h.in_place("mul_"),
    "div_": h.in_place("div_"),
    # layers as functions
    "linear": h.function(F.linear, "input", "weight", "bias"),
    "addmm": h.function(torch.addmm, "self", "mat1", "mat2", beta=1, alpha=1),
    "baddbmm": h.function(torch.baddbmm, "self", "batch1", "batch2", beta=1, alpha=1),
    "conv1d": h.conv(F.conv1d, 1), "conv2d": h.conv(F.conv2d, 2),
    "conv3d": h.conv(F.conv3d, 3), "conv1d.padding": h.conv(F.conv1d, 1),
    "conv2d.padding": h.conv(F.conv2d, 2),
    "conv_transpose1d": h.conv_transpose(F.conv_transpose1d, 1),
    "conv_transpose2d.input": h.conv_transpose(F.conv_transpose2d, 2),
    "layer_norm": h.function(F.layer_norm, "input", "normalized_shape", "weight", "bias",
                             "eps"),
    "group_norm": h.function(F.group_norm, "input", "num_groups", "weight", "bias", "eps"),
    "batch_norm": h.batch_norm, "instance_norm": h.instance_norm,
    "embedding": h.embedding, "dropout": h.dropout,
    "scaled_dot_product_attention": h.attention,
    "max_pool1d": h.max_pool(F.max_pool1d, 1), "max_pool2d": h.max_pool(F.max_pool2d, 2),
    "avg_pool1d": h.avg_pool(F.avg_pool1d, 1), "avg_pool2d": h.avg_pool(F.avg_pool2d, 2),
    "adaptive_avg_pool1d": h.function(F.adaptive_avg_pool1d, "self", "output_size"),
    "adaptive_avg_pool2d": h.function(F.adaptive_avg_pool2d, "self", "output_size"),
    "adaptive_max_pool2d": h.function(F.adaptive_max_pool2d, "self", "output_size"),
    "upsample_nearest2d.vec": h.upsample("nearest"),
    "upsample_bilinear2d.vec": h.upsample("bilinear"),
    "constant_pad_nd": h.constant_pad, "pad": h.padding,
    # activations
    "gelu": h.function(F.gelu, "self", approximate="none"),
    "silu": h.function(F.silu, "self"), "mish": h.function(F.mish, "self"),
    "hardswish": h.function(F.hardswish, "self"),
    "hardsigmoid": h.function(F.hardsigmoid, "self"), "relu6": h.function(F.relu6, "self"),
    "hardtanh": h.function(F.hardtanh, "self", min_val=-1.0, max_val=1.0),
    "leaky_relu": h.function(F.leaky_relu, "self", negative_slope=0.01),
    "elu": h.function(F.elu, "self", alpha=1.0),
    "softplus": h.function(F.softplus, "self", beta=1.0, threshold=20.0),
    "log_sigmoid": h.function(F.logsigmoid, "self"), "glu": h.function(F.glu, "self", dim=-1),
    "softmax.int": h.function(torch.softmax, "self", "dim", dtype=None),
    "_softmax": h.function(torch.softmax, "self", "dim"),
    "log_softmax.int": h.function(torch.log_softmax, "self", "dim", dtype=None),
    "_log_softmax": h.function(torch.log_softmax, "self", "dim"),
    # shapes: Tensor methods, sizes spread out as people write them (x.view(n, -1))
    "view": h.method("view", splat="size"), "_unsafe_view": h.method("view", splat="size"),
    "reshape": h.method("reshape", splat="shape"), "expand": h.method("expand", splat="size"),
    "repeat": h.method("repeat", splat="repeats"), "permute": h.method("permute", splat="dims"),
    "transpose.int": h.method("transpose", "dim0", "dim1"), "t": h.transpose_2d,
    "unsqueeze": h.method("unsqueeze", "dim"), "squeeze.dim": h.method("squeeze", "dim"),
    "squeeze.dims": h.method("squeeze", "dim"), "squeeze.default": h.method("squeeze"),
    "flatten.using_ints": h.function(torch.flatten, "self", start_dim=0, end_dim=-1),
    "contiguous": h.method("contiguous"), "clone": h.method("clone"),
    "detach": h.method("detach"), "type_as": h.method("type_as", "other"),
    "masked_fill.Scalar": h.method("masked_fill", "mask", "value"),
    "masked_fill.Tensor": h.method("masked_fill", "mask", "value"),
    "masked_fill_.Scalar": h.method("masked_fill_", "mask", "value"),
    "to.dtype": h.cast, "to.dtype_layout": h.cast, "to.device": h.cast, "_to_copy": h.cast,
    # indexing: x[:, :4], x[..., 0], x[idx]
    "slice.Tensor": h.slicing, "select.int": h.selecting, "index.Tensor": h.indexing,
    # joining and splitting
    "cat": h.function(torch.cat, "tensors", "dim"),
    "stack": h.function(torch.stack, "tensors", "dim"),
    "split.Tensor": h.function(torch.split, "self", "split_size", "dim"),
    "split_with_sizes": h.function(torch.split, "self", "split_sizes", "dim"),
    "chunk": h.function(torch.chunk, "self", "chunks", "dim"),
    "unbind.int": h.function(torch.unbind, "self", "dim"), "einsum": h.einsum,
    # reductions
    "mean.dim": h.function(torch.mean, "self", "dim", keepdim=False, dtype=None),
    "sum.dim_IntList": h.function(torch.sum, "self", "dim", keepdim=False, dtype=None),
    "amax": h.function(torch.amax, "self", "dim", keepdim=False),
    "amin": h.function(torch.amin, "self", "dim", keepdim=False),
    "max.dim": h.function(torch.max, "self", "dim", keepdim=False),
    "min.dim": h.function(torch.min, "self", "dim", keepdim=False),
    # made from nothing: the device comes from a tensor of the graph
    "arange": h.arange, "zeros.default": h.factory(torch.zeros, "size"),
    "ones.default": h.factory(torch.ones, "size"),
    "empty.memory_format": h.factory(torch.empty, "size"),
    "full.default": h.factory(torch.full, "size", "fill_value"),
    "scalar_tensor": h.factory(torch.scalar_tensor, "s"),
    "zeros_like": h.like(torch.zeros_like), "ones_like": h.like(torch.ones_like),
    "empty_like": h.like(torch.empty_like), "full_like": h.like(torch.full_like, "fill_value"),
    "new_zeros": h.method("new_zeros", "size", dtype=None),
    "new_ones": h.method("new_ones", "size", dtype=None),
    "new_full": h.method("new_full", "size", "fill_value", dtype=None),
    "new_empty": h.method("new_empty", "size", dtype=None),
    # sizes read from tensors: the walker follows them with the batch
    "sym_size.int": h.method("size", "dim"), "sym_numel": h.method("numel"),
    # what the trace adds that the model did not write
    "alias": h.identity, "lift_fresh_copy": h.identity, "detach_": h.identity,
    "_assert_tensor_metadata": h.dropped, "_assert_scalar": h.dropped,
    "sym_constrain_range": h.dropped, "sym_constrain_range_for_size": h.dropped,
    "_assert_async": h.dropped, "_functional_assert_async": h.dropped,
}

# Namespaces that hold the torch form of an ATen op with a prefix: linalg_vector_norm is
# torch.linalg.vector_norm.
_PREFIXED = {"linalg_": torch.linalg, "special_": torch.special, "fft_": torch.fft}


def _same_name(overload: torch._ops.OpOverload) -> Handler | None:
    """The torch function (or in-place Tensor method) ATen's op is named after, called with
    the op's own arguments."""
    name = overload.overloadpacket.__name__
    if name.startswith("__") and callable(getattr(operator, name, None)):  # __and__: a & b
        target = getattr(operator, name)
        return lambda emit, values, op: emit.function(target, *op.args)
    if name.endswith("_") and hasattr(torch.Tensor, name):
        return lambda emit, values, op: emit.method(name, *op.args, **op.kwargs)
    target = getattr(torch, name, None)
    for prefix, space in _PREFIXED.items():
        if name.startswith(prefix):
            target = getattr(space, name[len(prefix):], None)
    if name.startswith("_") or not callable(target):
        return None

    def handle(emit: Emit, values: Values, op: Op) -> Any:
        kwargs = dict(op.kwargs)
        if "device" in kwargs:
            kwargs["device"] = emit.device(kwargs["device"])
        return emit.function(target, *op.args, **kwargs)
    return handle


def handler_for(overload: torch._ops.OpOverload) -> Handler:
    packet = overload.overloadpacket.__name__
    found = HANDLERS.get(f"{packet}.{overload._overloadname}") or HANDLERS.get(packet) or \
        _same_name(overload)
    if found is None:
        raise Untraceable(f"torch.export gave {overload}, which TorchCanvas cannot turn back "
                          f"into a torch call")
    return found


def translate_aten(emit: Emit, node: fx.Node, args: tuple, kwargs: dict) -> Any:
    """``node`` (an ATen op of the exported graph) as torch calls in ``emit``'s graph;
    ``args``/``kwargs`` are its arguments there. Returns what stands for its result."""
    overload = node.target
    return handler_for(overload)(emit, schema_values(overload, args, kwargs),
                                 Op(node, args, kwargs))
