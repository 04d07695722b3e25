"""Which catalog op each torch function and tensor method becomes, and the lookup."""

from __future__ import annotations

import operator
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import fx

from codegen.importer.context import Context
from codegen.importer.import_errors import Untraceable
from codegen.importer.op_handlers import (
    PASS,
    POOL_AVG,
    OpDraft,
    binary_op,
    dropout_op,
    expand_op,
    interpolate_op,
    label,
    max_op,
    max_pool_op,
    permute_op,
    pow_op,
    reduce_op,
    reshape_op,
    simple_op,
    softmax_op,
    split_op,
    squeeze_op,
    tensors_with_dim_op,
    twin_op,
    unsqueeze_op,
)
from codegen.importer.op_handlers_attention import (
    added_product_op,
    gather_op,
    scaled_dot_product_attention_op,
)
from codegen.importer.op_handlers_compare import (
    arange_op,
    compare_op,
    logic_op,
    masked_fill_op,
    where_op,
)
from codegen.importer.op_handlers_mask import (
    CAST_METHODS,
    cast_method_op,
    cumsum_op,
    diff_op,
    index_op,
    new_ones_op,
    to_op,
)
from codegen.importer.op_handlers_similarity import cosine_similarity_op

__all__ = ["PASS", "OpDraft", "translate"]

_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


FUNCTIONS: dict[Callable, Callable[[Context, fx.Node], OpDraft]] = {
    operator.add: binary_op("add"), operator.iadd: binary_op("add"), torch.add: binary_op("add"),
    operator.sub: binary_op("sub"), operator.isub: binary_op("sub"), torch.sub: binary_op("sub"),
    operator.mul: binary_op("mul"), operator.imul: binary_op("mul"), torch.mul: binary_op("mul"),
    operator.truediv: binary_op("div"), operator.itruediv: binary_op("div"),
    torch.div: binary_op("div"),
    operator.matmul: lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    operator.neg: simple_op("op.neg"),
    operator.pow: pow_op, torch.pow: pow_op,
    torch.matmul: lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    torch.bmm: lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    torch.addmm: added_product_op("op.addmm", ("input", "mat1", "mat2")),
    torch.baddbmm: added_product_op("op.baddbmm", ("input", "batch1", "batch2")),
    torch.mm: lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    operator.getitem: index_op,
    torch.cat: tensors_with_dim_op("op.cat"), torch.concat: tensors_with_dim_op("op.cat"),
    torch.stack: tensors_with_dim_op("op.stack"),
    torch.flatten: simple_op("op.flatten", [("start_dim", 0), ("end_dim", -1)],
                           keep=("start_dim", "end_dim")),
    torch.reshape: reshape_op("reshape"), torch.permute: permute_op,
    torch.transpose: simple_op("op.transpose", [("dim0", 0), ("dim1", 1)],
                             keep=("dim0", "dim1")),
    torch.squeeze: squeeze_op, torch.unsqueeze: unsqueeze_op,
    torch.chunk: split_op("chunk", "chunks"), torch.split: split_op("split",
                                                                 "split_size_or_sections"),
    torch.mean: reduce_op("mean"), torch.sum: reduce_op("sum"), torch.amax: reduce_op("amax"),
    torch.amin: reduce_op("amin"), torch.max: max_op,
    torch.softmax: softmax_op("softmax"), F.softmax: softmax_op("softmax"),
    torch.log_softmax: softmax_op("log_softmax"), F.log_softmax: softmax_op("log_softmax"),
    torch.relu: twin_op("op.relu", []), F.relu: twin_op("op.relu", [("inplace", False)]),
    torch.sigmoid: simple_op("op.sigmoid"), F.sigmoid: simple_op("op.sigmoid"),
    torch.tanh: simple_op("op.tanh"), F.tanh: simple_op("op.tanh"),
    F.gelu: simple_op("op.gelu", [("approximate", "none")], keep=("approximate",)),
    F.silu: twin_op("op.silu", [("inplace", False)]),
    torch.abs: simple_op("op.abs"), torch.neg: simple_op("op.neg"), torch.exp: simple_op("op.exp"),
    torch.log: simple_op("op.log"), torch.sqrt: simple_op("op.sqrt"),
    F.dropout: dropout_op,
    F.max_pool1d: max_pool_op("max_pool1d"), F.max_pool2d: max_pool_op("max_pool2d"),
    F.avg_pool1d: simple_op("op.avg_pool1d", POOL_AVG[:5],
                          keep=("kernel_size", "stride", "padding", "ceil_mode",
                                "count_include_pad")),
    F.avg_pool2d: simple_op("op.avg_pool2d", POOL_AVG,
                          keep=tuple(n for n, _ in POOL_AVG)),
    F.adaptive_avg_pool1d: simple_op("op.adaptive_avg_pool1d", [("output_size", None)],
                                   keep=("output_size",)),
    F.adaptive_avg_pool2d: simple_op("op.adaptive_avg_pool2d", [("output_size", None)],
                                   keep=("output_size",)),
    F.adaptive_max_pool2d: simple_op("op.adaptive_max_pool2d",
                                   [("output_size", None), ("return_indices", False)],
                                   keep=("output_size",), ignore={"return_indices": False}),
    F.leaky_relu: twin_op("op.leaky_relu", [("negative_slope", 0.01), ("inplace", False)]),
    F.elu: twin_op("op.elu", [("alpha", 1.0), ("inplace", False)]),
    F.relu6: twin_op("op.relu6", [("inplace", False)]),
    F.hardtanh: twin_op("op.hardtanh", [("min_val", -1.0), ("max_val", 1.0),
                                      ("inplace", False)]),
    F.hardswish: twin_op("op.hardswish", [("inplace", False)]),
    F.hardsigmoid: twin_op("op.hardsigmoid", [("inplace", False)]),
    F.softplus: simple_op("op.softplus", [("beta", 1.0), ("threshold", 20.0)],
                        keep=("beta", "threshold")),
    F.mish: twin_op("op.mish", [("inplace", False)]),
    F.normalize: simple_op("op.normalize", [("p", 2.0), ("dim", 1), ("eps", 1e-12),
                                          ("out", None)],
                         keep=("p", "dim", "eps"), ignore={"out": None}),
    F.interpolate: interpolate_op,
    F.pad: simple_op("op.pad", [("pad", None), ("mode", "constant"), ("value", None)],
                   keep=("pad", "mode", "value")),
    torch.cosine_similarity: cosine_similarity_op,  # F.cosine_similarity is the same function
    F.scaled_dot_product_attention: scaled_dot_product_attention_op,
    torch.gather: gather_op,
    # attention masks: comparisons, logic on bool masks, positions counted with arange
    **{getattr(operator, kind): compare_op(kind) for kind in _COMPARISONS},
    **{getattr(torch, kind): compare_op(kind) for kind in _COMPARISONS},
    operator.and_: logic_op("and", bitwise=True), operator.or_: logic_op("or", bitwise=True),
    operator.invert: logic_op("not", bitwise=True),
    torch.logical_and: logic_op("and"), torch.logical_or: logic_op("or"),
    torch.logical_not: logic_op("not"),
    torch.arange: arange_op, torch.where: where_op,
    # and the mask GPT-2 builds: casts, running counts, differences, picks by index tensors
    torch.cumsum: cumsum_op, torch.diff: diff_op,
}

METHODS: dict[str, Callable[[Context, fx.Node], OpDraft]] = {
    "add": binary_op("add"), "add_": binary_op("add"), "sub": binary_op("sub"),
    "sub_": binary_op("sub"), "mul": binary_op("mul"), "mul_": binary_op("mul"),
    "div": binary_op("div"), "div_": binary_op("div"), "pow": pow_op,
    "matmul": lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    "bmm": lambda c, n: OpDraft("op.matmul", {}, list(n.args[:2])),
    "view": reshape_op("view"), "reshape": reshape_op("reshape"), "permute": permute_op,
    "expand": expand_op,
    "transpose": simple_op("op.transpose", [("dim0", 0), ("dim1", 1)], keep=("dim0", "dim1")),
    "flatten": simple_op("op.flatten", [("start_dim", 0), ("end_dim", -1)],
                       keep=("start_dim", "end_dim")),
    "contiguous": simple_op("op.contiguous"), "squeeze": squeeze_op, "unsqueeze": unsqueeze_op,
    "chunk": split_op("chunk", "chunks"), "split": split_op("split", "split_size_or_sections"),
    "mean": reduce_op("mean"), "sum": reduce_op("sum"), "amax": reduce_op("amax"),
    "amin": reduce_op("amin"), "max": max_op,
    "softmax": softmax_op("softmax"), "log_softmax": softmax_op("log_softmax"),
    "relu": simple_op("op.relu"), "relu_": simple_op("op.relu"), "sigmoid": simple_op("op.sigmoid"),
    "tanh": simple_op("op.tanh"), "abs": simple_op("op.abs"), "neg": simple_op("op.neg"),
    "exp": simple_op("op.exp"), "log": simple_op("op.log"), "sqrt": simple_op("op.sqrt"),
    **{kind: compare_op(kind) for kind in _COMPARISONS},
    "logical_and": logic_op("and"), "logical_or": logic_op("or"), "logical_not": logic_op("not"),
    "masked_fill": masked_fill_op,
    "to": to_op, "cumsum": cumsum_op, "diff": diff_op, "new_ones": new_ones_op,
    **{method: cast_method_op(method) for method in CAST_METHODS},
}


def translate(ctx: Context, node: fx.Node) -> OpDraft:
    if node.op == "call_function":
        handler = FUNCTIONS.get(node.target)
    else:
        handler = METHODS.get(node.target)
    if handler is None:
        raise Untraceable(f"it uses {label(node)}, which the catalog has no node for")
    draft = handler(ctx, node)
    for item in draft.inputs:
        if not ctx.is_tensor(item):
            raise Untraceable(f"{label(node)} takes {ctx.value(item)!r} where a tensor goes")
    return draft
