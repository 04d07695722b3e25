"""Tensors a module holds directly -> ``attr.Parameter`` / ``attr.Buffer`` params.

The state_dict brings the values of parameters and persistent buffers back, so the project
only needs to say how they start: zeros, ones, a constant, or normal noise of the same
spread (a learned positional embedding starts like the original did). A non-persistent
buffer is not in the state_dict, so its exact values are stored (compressed bytes), unless
it is constant. Small persistent buffers keep their values too: they are cheap and exact.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

from codegen.importer.values import dtype_name
from graph_schema.catalog.attrs import encode_bytes

SMALL = 4096  # elements: a persistent buffer this small keeps its values
_FLOATING = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _fill(tensor: torch.Tensor, exact: bool) -> dict[str, Any]:
    flat = tensor.detach().reshape(-1)
    if flat.numel() and bool((flat == flat[0]).all()):
        first = flat[0].item()
        if first == 0:
            return {}
        if first == 1:
            return {"fill": "ones"}
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return {"fill": "full", "value": float(first)}
        return {"fill": "full", "value": float(bool(first))}
    if not flat.numel():
        return {}
    if exact or tensor.dtype not in _FLOATING:
        return {"fill": "values", "data": encode_bytes(_little_endian(tensor))}
    spread = float(flat.float().std()) if flat.numel() > 1 else abs(float(flat[0]))
    return {"fill": "normal", "value": float(f"{spread:.3g}")}


def _little_endian(tensor: torch.Tensor) -> bytes:
    """The tensor's bytes, little-endian (the order the generated code reads back)."""
    data = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
    raw = bytes(data.tolist())
    if sys.byteorder == "big" and tensor.element_size() > 1:
        size = tensor.element_size()
        raw = b"".join(raw[i:i + size][::-1] for i in range(0, len(raw), size))
    return raw


def tensor_params(tensor: torch.Tensor, learned: bool,
                  persistent: bool) -> tuple[str, dict[str, Any]]:
    """(node type, params) for one held tensor."""
    params: dict[str, Any] = {"shape": list(tensor.shape)}
    dtype = dtype_name(tensor.dtype)
    if dtype != "float32":
        params["dtype"] = dtype
    if learned:
        params.update(_fill(tensor, exact=False))
        if not tensor.requires_grad:
            params["requires_grad"] = False
        return "attr.Parameter", params
    exact = not persistent or tensor.numel() <= SMALL
    params.update(_fill(tensor, exact=exact))
    if params.get("fill") == "normal":  # a large persistent buffer: the state_dict has it
        del params["fill"], params["value"]
    if not persistent:
        params["persistent"] = False
    return "attr.Buffer", params
