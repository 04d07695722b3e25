"""Meta-tensor results that need no kernel: what a layer or op gives is plain from its input.

On meta tensors torch still runs Python decompositions, which for small layers cost far more
than the arithmetic they skip (a GELU ~1 ms). For the layers and ops below the result is
known exactly: a tensor like the input (activations, norms, dropout), or the input with its
last dimension replaced (Linear), or with one more (Embedding). Everything else runs.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

# Layers whose output is a tensor like their input: same shape, dtype and device.
SAME_SHAPE = {
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.Dropout, nn.Dropout1d,
    nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Identity, nn.ReLU, nn.ReLU6, nn.GELU,
    nn.SiLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Hardswish, nn.Hardsigmoid,
    nn.Hardtanh, nn.Mish, nn.Softplus, nn.PReLU, nn.Softmax, nn.LogSoftmax,
}

# Functions and methods of one tensor (other arguments are numbers) that keep its shape.
_UNARY_FUNCTIONS = {F.relu, F.gelu, F.silu, F.relu6, F.leaky_relu, F.elu, F.hardswish,
                    F.hardsigmoid, F.hardtanh, F.mish, F.softplus, F.softmax, F.log_softmax,
                    F.dropout, torch.relu, torch.sigmoid, torch.tanh, torch.exp, torch.abs,
                    torch.neg, operator.neg, torch.softmax, torch.log_softmax}
_UNARY_METHODS = {"relu", "relu_", "sigmoid", "tanh", "exp", "abs", "neg", "contiguous",
                  "softmax", "log_softmax"}
_SCALAR_OPERATORS = {operator.add, operator.sub, operator.mul, operator.truediv,
                     operator.iadd, operator.isub, operator.imul, operator.itruediv}


def _is_meta(value) -> bool:
    return isinstance(value, torch.Tensor) and value.device.type == "meta"


def module_result(module: nn.Module, args: tuple, kwargs: dict):
    """The layer's output on a meta input, or None when it must really run."""
    if len(args) != 1 or kwargs or not _is_meta(args[0]):
        return None
    x = args[0]
    kind = type(module)
    if kind in SAME_SHAPE:
        return torch.empty_like(x)
    if kind is nn.Linear and x.dim() >= 1 and x.shape[-1] == module.in_features \
            and x.dtype == module.weight.dtype:
        return x.new_empty((*x.shape[:-1], module.out_features))
    if kind is nn.Embedding and not x.is_floating_point() and not x.is_complex():
        return torch.empty((*x.shape, module.embedding_dim), dtype=module.weight.dtype,
                           device="meta")
    return None


def op_result(op: str, target, args: tuple, kwargs: dict):
    """The op's output on meta inputs, or None when it must really run."""
    if not args or not _is_meta(args[0]):
        return None
    rest = [*args[1:], *kwargs.values()]
    if any(isinstance(value, torch.Tensor) for value in rest):
        if op == "call_function" and target in _SCALAR_OPERATORS and len(args) == 2 \
                and not kwargs and _is_meta(args[1]) and args[0].shape == args[1].shape \
                and args[0].dtype == args[1].dtype and args[0].is_floating_point():
            return torch.empty_like(args[0])
        return None
    if op == "call_function" and target in _UNARY_FUNCTIONS:
        return torch.empty_like(args[0]) if not _changes_dtype(kwargs) else None
    if op == "call_method" and target in _UNARY_METHODS:
        return torch.empty_like(args[0]) if not _changes_dtype(kwargs) else None
    return None


def _changes_dtype(kwargs: dict) -> bool:
    return kwargs.get("dtype") is not None
