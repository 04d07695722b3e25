"""What a model takes: one input or several (a sentence-pair model takes two), each with its shape,
dtype and, for token ids, how many distinct ids its embedding accepts.

A batch's `x` is a tensor for a one-input model and a tuple of tensors for a model with several;
the helpers here are the only places that tell the two apart, so the loop and the tools call
`call(model, x)` and `batch_len(x)` without caring which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

Inputs = torch.Tensor | tuple[torch.Tensor, ...]
INTEGER_DTYPES = ("int64", "int32", "int16", "int8", "uint8", "long", "int")


@dataclass(frozen=True)
class ModelInput:
    """One io.Input: its shape with the batch dim first (e.g. ('N', 32)), its dtype and, for
    token ids, the number of ids every embedding it may reach accepts. An unnamed one comes from
    a bare shape (--input-shape), which says nothing of how many inputs the model has."""

    shape: tuple
    dtype: str = "float32"
    vocab: int | None = None
    name: str = ""

    @property
    def is_tokens(self) -> bool:
        return self.dtype in INTEGER_DTYPES


def model_inputs_of(project, network) -> list[ModelInput]:
    """The network's io.Inputs in the order its generated forward takes them."""
    vocab = smallest_embedding(project, network)
    found = []
    for node in network.inputs():
        dtype = str(node.params.get("dtype") or "float32")
        found.append(ModelInput(tuple(node.params.get("shape") or ()), dtype,
                                vocab if dtype in INTEGER_DTYPES else None, node.name))
    return found


def smallest_embedding(project, network) -> int | None:
    """The fewest ids any nn.Embedding of the network or of the project's blocks accepts: token
    ids below it are valid for every embedding they can reach."""
    sizes = [node.params.get("num_embeddings")
             for graph in (network, *project.blocks) for node in graph.nodes
             if node.type == "nn.Embedding"]
    sizes = [size for size in sizes if isinstance(size, int) and size > 0]
    return min(sizes) if sizes else None


def as_model_inputs(given) -> list[ModelInput] | None:
    """A shape ('N', 1, 8, 8), one ModelInput, or a list of them, as a list (None stays None).
    A bare shape becomes one unnamed input."""
    if given is None:
        return None
    if isinstance(given, ModelInput):
        return [given]
    if isinstance(given, Sequence) and given and all(isinstance(g, ModelInput) for g in given):
        return list(given)
    return [ModelInput(tuple(given))]


# --- batches -----------------------------------------------------------------------------------


def call(model: nn.Module, x: Inputs):
    return model(*x) if isinstance(x, tuple) else model(x)


def batch_len(x: Inputs) -> int:
    return len(x[0]) if isinstance(x, tuple) else len(x)


def to_device(x: Inputs, device: torch.device) -> Inputs:
    if isinstance(x, tuple):
        return tuple(to_device(part, device) for part in x)
    return x if x.device == device else x.to(device, non_blocking=True)


def select(x: Inputs, index: torch.Tensor) -> Inputs:
    """The samples at `index` of every input."""
    return tuple(part[index] for part in x) if isinstance(x, tuple) else x[index]


def stack(samples: Sequence) -> Inputs:
    """The inputs of a few (x, y) samples as a batch."""
    first = samples[0][0]
    if isinstance(first, (tuple, list)):
        return tuple(torch.stack([torch.as_tensor(s[0][i]) for s in samples])
                     for i in range(len(first)))
    return torch.stack([torch.as_tensor(s[0]) for s in samples])


def describe(x: Inputs) -> str:
    """'(2, 32) and (2, 32)': the batch's shapes, for messages."""
    parts = x if isinstance(x, tuple) else (x,)
    return " and ".join("(" + ", ".join(str(d) for d in p.shape) + ")" for p in parts)
