"""What the catalog knows about one layer type: ports, parameters, shape rule, emission."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from graph_schema.catalog.params import ParamSpec
from graph_schema.dims import Dim, Shape

# One glyph per family: the canvas, exported diagrams and the palette all draw from this list.
FAMILIES: dict[str, str] = {
    "io": "Inputs and outputs",
    "conv": "Convolution",
    "linear": "Linear",
    "pool": "Pooling",
    "norm": "Normalization",
    "activation": "Activation",
    "dropout": "Dropout",
    "recurrent": "Recurrent",
    "attention": "Attention",
    "embedding": "Embedding",
    "merge": "Merge",
    "reshape": "Reshape",
    "padding": "Padding",
    "resample": "Resampling",
    "reduce": "Reduction",
    "op": "Tensor op",
    "block": "Block",
}

# What the lints need to know about a type beyond its family: each tag names a role that a
# few types share (a lint asks ``"dropout" in spec.tags``, never for a list of type names).
TAGS: dict[str, str] = {
    "softmax": "softmax or log-softmax: what a cross-entropy or NLL loss applies itself",
    "biased": "has a bias parameter that a following normalisation makes redundant",
    "batch-norm": "normalises each channel over the batch",
    "dropout": "zeroes random elements or channels while training",
    "transparent": "leaves what a following Linear sees unchanged (dropout, identity)",
    "reshape": "gives the same elements a new shape in memory order",
}

Params = dict[str, Any]
Inputs = Sequence[Shape | None]
ShapeRule = Callable[[Params, Inputs], list[Shape]]
InferRule = Callable[[Params, Inputs], dict[str, Any]]
CountRule = Callable[[Params], int]
MacsRule = Callable[[Params, Inputs, list[Shape]], Dim]


@dataclass(frozen=True)
class Fix:
    """A one-click repair: ``set_param`` (node, param, value) or ``insert_node`` (type, params,
    on the edge into ``node``'s input ``port``)."""

    label: str
    kind: str
    args: dict = field(default_factory=dict)


class ShapeError(Exception):
    """Raised by a shape rule: what was expected at which input, and what arrived."""

    def __init__(self, message: str, port: int | None = 0, fix: Fix | None = None,
                 code: str = "shape-mismatch"):
        super().__init__(message)
        self.message = message
        self.port = port
        self.fix = fix
        self.code = code


@dataclass(frozen=True)
class PortSpec:
    name: str
    optional: bool = False
    variadic: bool = False  # this port repeats: inputs k, k+1, ... are all of this kind


@dataclass(frozen=True)
class OpCall:
    """How a tensor op is written in PyTorch, for code generation and for the catalog tests.

    kind: "operator" (``a + b``), "function" (``torch.cat([a, b], dim=1)``),
    "method" (``x.permute(0, 2, 1)``), "getitem" (``x[:, 0]``) or "index" (``x[i, j]``, the
    other inputs the index).
    """

    kind: str
    name: str
    # "args": each input positional; "list": all inputs in one list; "first": only the first
    # (the others only lend sizes by name, as in x.expand(other.size(0), -1)); "like": none
    # of them, they lend sizes by name and their device to a tensor the op makes
    # (torch.arange(x.size(1), device=x.device))
    inputs: str = "args"
    positional: tuple[str, ...] = ()  # parameters passed positionally after the inputs
    star: str | None = None  # a list parameter unpacked positionally: x.permute(*dims)
    keyword: tuple[str, ...] = ()  # parameters passed by name
    leading: tuple[str, ...] = ()  # parameters passed before the inputs: torch.einsum(eq, a)
    # Input ports passed by name after the positional arguments, each only when connected:
    # torch.gather(x, 1, index=index), F.scaled_dot_product_attention(..., attn_mask=mask)
    named_inputs: tuple[str, ...] = ()


def _no_params(_: Params) -> int:
    return 0


def _no_macs(_p: Params, _i: Inputs, _o: list[Shape]) -> Dim:
    return 0


@dataclass(frozen=True)
class LayerSpec:
    type: str  # namespaced: "nn.Conv2d", "op.add", "io.Input"
    family: str
    rule: ShapeRule
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("input"),)
    outputs: tuple[str, ...] = ("output",)  # names of the usual outputs (a rule may add more)
    infer: InferRule | None = None
    torch_class: str | None = None  # "Conv2d" when the type is torch.nn.Conv2d
    forward_params: tuple[str, ...] = ()  # module params passed to forward(), not __init__
    # How inputs reach forward(): "args" (one positional each), "hx_tuple" (LSTM:
    # input, (h_0, c_0)), "self_attention" (key and value default to the query).
    forward_inputs: str = "args"
    # How the module is built: "kwargs" (torch_class(**params)) or "transformer_stack"
    # (torch_class(<Layer>(**layer params), num_layers=...), the layer class in `stack_layer`).
    construct: str = "kwargs"
    # What the torch call returns: "auto" (one value, or a flat tuple of the outputs),
    # "nested_state" (LSTM: output, (h_n, c_n)), "pair" (attention: always a 2-tuple, the
    # second None when the rule gives one output), "sequence" (split, chunk: always a tuple,
    # even of one piece).
    returns: str = "auto"
    stack_layer: str | None = None
    call: OpCall | None = None  # for op.* types
    count_params: CountRule = _no_params
    macs: MacsRule = _no_macs
    summary_params: tuple[str, ...] = ()  # the key parameters a node shows on the canvas
    description: str = ""
    legacy_types: tuple[str, ...] = ()
    name_hint: str | None = None  # what a new node is called: "fc" -> fc1, fc2 (None: derived)
    tags: frozenset[str] = frozenset()  # roles from TAGS
    # The layer a functional op is the inline form of (F.interpolate: "nn.Upsample"); its
    # glyph borrows that layer's family. Ops named like their layer (F.relu and nn.ReLU) are
    # matched by name without it (counterparts.py).
    mirrors: str | None = None

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"{self.type}: unknown family {self.family!r}")
        unknown = sorted(self.tags - TAGS.keys())
        if unknown:
            raise ValueError(f"{self.type}: unknown tags {unknown}")

    @cached_property
    def param_map(self) -> dict[str, ParamSpec]:
        return {p.name: p for p in self.params}

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """Default values, normalised the way user values are (kernel_size=3 -> (3, 3))."""
        return {p.name: None if p.default is None else p.check_value(p.default)
                for p in self.params}

    @property
    def has_weights(self) -> bool:
        """Whether the layer can hold learned parameters (the catalog counts them)."""
        return self.count_params is not _no_params

    @property
    def inferable(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.inferable)

    def port_spec(self, index: int) -> PortSpec | None:
        if index < len(self.inputs):
            return self.inputs[index]
        if self.inputs and self.inputs[-1].variadic:
            return self.inputs[-1]
        return None

    def port_name(self, index: int) -> str:
        spec = self.port_spec(index)
        if spec is None:
            return f"input {index}"
        return f"{spec.name} {index}" if spec.variadic else spec.name

    @property
    def min_inputs(self) -> int:
        """How many leading ports must be connected."""
        count = 0
        for port in self.inputs:
            if port.optional:
                break
            count += 1
        return count

    @property
    def max_inputs(self) -> int | None:
        if self.inputs and self.inputs[-1].variadic:
            return None
        return len(self.inputs)
