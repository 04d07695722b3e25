"""Held tensors in generated code: ``nn.Parameter(...)`` and ``register_buffer(...)``.

Stored values reach the code as a base64 string literal decoded by a small helper
(``_stored_tensor``) in the generated file: data, never code.
"""

from __future__ import annotations

from codegen.expressions import Bound
from codegen.literals import py_literal, py_str
from codegen.pyformat import Call
from graph_schema.catalog.attrs import encode_bytes

HELPER = "_stored_tensor"


def _dtype_args(dtype: str) -> tuple[str, ...]:
    return () if dtype == "float32" else (f"dtype=torch.{dtype}",)


def _size_args(shape) -> tuple[str, ...]:
    if isinstance(shape, Bound):  # one argument of the block says the whole shape
        return (shape.text,)
    return tuple(str(size) for size in shape) if shape else ("()",)


def _shape_literal(shape) -> str:
    return shape.text if isinstance(shape, Bound) else py_literal(shape)


def tensor_expression(params: dict):
    """The expression that builds the tensor as the node's ``fill`` says. Its shape may be
    an argument of the block (GPT-2's Conv1D holds a weight of another shape in each
    place)."""
    shape, dtype, fill = params["shape"], params["dtype"], params["fill"]
    if not isinstance(shape, Bound):
        shape = tuple(shape)
    if fill in ("zeros", "ones"):
        return Call(f"torch.{fill}", (*_size_args(shape), *_dtype_args(dtype)))
    if fill == "full":
        value = params["value"]
        if not dtype.startswith(("float", "bfloat")):
            value = bool(value) if dtype == "bool" else int(value)
        return Call("torch.full", (_shape_literal(shape), py_literal(value),
                                   *_dtype_args(dtype)))
    if fill == "normal":
        noise = Call("torch.randn", (*_size_args(shape), *_dtype_args(dtype))).flat()
        return f"{noise} * {py_literal(params['value'])}"
    text = encode_bytes(params["data"])["bytes"]
    return Call(HELPER, (py_str(text), f"torch.{dtype}", _shape_literal(shape)))


def parameter_constructor(params: dict) -> Call:
    args = (tensor_expression(params),)
    if not params["requires_grad"]:
        args += ("requires_grad=False",)
    return Call("nn.Parameter", args)


def buffer_constructor(name: str, params: dict) -> Call:
    args = (py_str(name), tensor_expression(params))
    if not params["persistent"]:
        args += ("persistent=False",)
    return Call("self.register_buffer", args)


def uses_helper(params: dict) -> bool:
    return params.get("fill") == "values"


class Registered:
    """A statement that registers rather than assigns: ``self.register_buffer(...)``."""

    def __init__(self, call: Call):
        self.call = call
