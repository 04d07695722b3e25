"""Tensors a module holds directly: ``nn.Parameter`` attributes and registered buffers.

``self.pos_embed = nn.Parameter(torch.zeros(1, 197, 768))`` or
``self.register_buffer("mask", ..., persistent=False)``: a node with no inputs whose output is
the tensor itself, read in ``forward`` as ``self.<name>``. How the tensor starts is ``fill``:
zeros, ones, a constant, normal noise of a given std, or ``values`` stored in the project.

Stored values are data, never code: ``data`` is ``{"encoding": "zlib+base64", "bytes": ...}``
holding the little-endian bytes of the tensor, zlib-compressed then base64-encoded. Checking a
value decompresses it with a size limit (a small file cannot unpack into gigabytes).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.spec import LayerSpec, ShapeError
from graph_schema.dims import product

ENCODING = "zlib+base64"
MAX_STORED_BYTES = 64 * 2**20  # a held tensor larger than this belongs in a checkpoint
ITEM_SIZES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8,
              "int32": 4, "int16": 2, "int8": 1, "uint8": 1, "bool": 1}
FILLS = ("zeros", "ones", "full", "normal", "values")
# Drawn with the inputs: like an io.Input, a held tensor is where data enters the graph.
FAMILY = "io"


class StoredTensor(ParamSpec):
    """``{"encoding": "zlib+base64", "bytes": "<text>"}`` -> the decompressed raw bytes."""

    def check_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) != {"encoding", "bytes"}:
            raise ParamError(f"{self.name} must be an object with 'encoding' and 'bytes'")
        if value["encoding"] != ENCODING:
            raise ParamError(f"{self.name}: unknown encoding {value['encoding']!r} (expected "
                             f"{ENCODING!r})")
        text = value["bytes"]
        if not isinstance(text, str) or len(text) > 2 * MAX_STORED_BYTES:
            raise ParamError(f"{self.name}: 'bytes' must be base64 text")
        return decode_bytes(text, self.name)


def decode_bytes(text: str, what: str = "data") -> bytes:
    try:
        packed = base64.b64decode(text.encode("ascii"), validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_STORED_BYTES)
        if inflater.unconsumed_tail:
            raise ParamError(f"{what}: more than {MAX_STORED_BYTES // 2**20} MiB of values")
        if not inflater.eof:
            raise ParamError(f"{what}: the compressed values are cut short")
    except (binascii.Error, UnicodeEncodeError, ValueError, zlib.error) as err:
        if isinstance(err, ParamError):
            raise
        raise ParamError(f"{what}: not zlib-compressed base64 ({err})") from None
    return raw


def encode_bytes(raw: bytes) -> dict[str, str]:
    """The stored form of raw little-endian tensor bytes (used by import)."""
    return {"encoding": ENCODING, "bytes": base64.b64encode(zlib.compress(raw, 9)).decode()}


def _tensor_rule(p, _inputs):
    shape = tuple(p["shape"])
    if p["fill"] == "values":
        raw = p["data"]
        if raw is None:
            raise ShapeError("fill is 'values' but no values are stored (data is empty)",
                             port=None, code="bad-param")
        expected = product(shape) * ITEM_SIZES[p["dtype"]]
        if len(raw) != expected:
            raise ShapeError(f"the stored values hold {len(raw)} bytes, but a {p['dtype']} "
                             f"tensor of shape {shape} needs {expected}", port=None,
                             code="bad-param")
    elif p["data"] is not None:
        raise ShapeError(f"values are stored but fill is {p['fill']!r}; set fill to 'values' "
                         f"or remove them", port=None, code="bad-param")
    floating = p["dtype"].startswith(("float", "bfloat"))
    if p["fill"] == "normal" and not floating:
        raise ShapeError(f"fill 'normal' needs a floating dtype, not {p['dtype']}", port=None,
                         code="bad-param")
    if p.get("requires_grad") and not floating:
        raise ShapeError(f"a {p['dtype']} parameter cannot be learned (only floating tensors "
                         f"have gradients); set requires_grad to false", port=None,
                         code="bad-param")
    return [shape]


def _count(p) -> int:
    return product(p["shape"])


_COMMON = (
    ParamSpec("shape", "int_list", required=True, minimum=0, doc="the tensor's sizes"),
    ParamSpec("dtype", "dtype", default="float32"),
    ParamSpec("fill", "choice", default="zeros", choices=FILLS,
              doc="how the tensor starts: zeros, ones, full (value), normal (std = value), "
                  "or the stored values"),
    ParamSpec("value", "float", default=0.0, doc="the constant for 'full', the std for "
                                                  "'normal'"),
    StoredTensor("data", "str", optional=True, doc="stored values (for fill 'values')"),
)

register(
    LayerSpec(
        type="attr.Parameter",
        family=FAMILY,
        rule=_tensor_rule,
        params=(*_COMMON, ParamSpec("requires_grad", "bool", default=True)),
        inputs=(),
        outputs=("tensor",),
        construct="parameter",
        count_params=_count,
        summary_params=("shape",),
        description="A learned tensor held by the module (nn.Parameter), e.g. a positional "
                    "embedding or a class token; forward reads it as self.<name>.",
    ),
    LayerSpec(
        type="attr.Buffer",
        family=FAMILY,
        rule=_tensor_rule,
        params=(*_COMMON, ParamSpec("persistent", "bool", default=True,
                                    doc="saved in the state_dict")),
        inputs=(),
        outputs=("tensor",),
        construct="buffer",
        summary_params=("shape", "persistent"),
        description="A tensor the module keeps but does not learn (register_buffer), e.g. a "
                    "mask or running statistics; non-persistent buffers are not saved in the "
                    "state_dict, so their values live in the project.",
    ),
)
