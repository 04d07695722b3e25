"""Property-based code generation over random valid graphs drawn from the whole catalog.

Each graph starts at an ``io.Input`` and grows one node at a time: hypothesis picks a tensor
(or two, for a merge), then a layer type and one of its SAMPLES settings among those the real
inference engine accepts for that input, both with symbolic sizes and with the sizes the model
runs at (a size that is fine as ``L`` but too small at L=5 must not slip through). Every tensor
nobody consumes becomes an ``io.Output``. The generated source must be ruff-clean, import,
build, and run on CPU with every module's inputs and outputs, and every network output, of the
shape inference promised, and as many parameters as the summary counts.

On failure hypothesis prints the drawn project as JSON (``note``): save it to a file and run
``torchcanvas generate`` on it to see the problem.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from graph_schema.catalog import all_specs, get_spec
from graph_schema.dims import Sym
from graph_schema.document import INIT_SCHEMES, Edge, Network, Node, Project
from graph_schema.inference import Inference
from tests.codegen_support import SIZES, agrees, check_model, generate_and_import, network_classes
from tests.torch_eval import flatten_outputs

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:dropout option adds dropout")]

# -- what a node can be --------------------------------------------------------------------------
_PLAIN = [{}]
SAMPLES: dict[str, list[dict]] = {
    # convolution and dense layers
    "nn.Conv1d": [{"out_channels": 6, "kernel_size": 3},
                  {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1, "bias": False},
                  {"out_channels": 4, "kernel_size": 3, "padding": "same", "dilation": 2,
                   "padding_mode": "reflect"}],
    "nn.Conv2d": [{"out_channels": 8, "kernel_size": 3, "padding": 1},
                  {"out_channels": 6, "kernel_size": [3, 1], "stride": 2},
                  {"out_channels": 4, "kernel_size": 1, "groups": 2}],
    "nn.Conv3d": [{"out_channels": 4, "kernel_size": 3, "padding": 1},
                  {"out_channels": 2, "kernel_size": [1, 3, 3], "stride": [1, 2, 2]}],
    "nn.ConvTranspose1d": [{"out_channels": 4, "kernel_size": 4, "stride": 2, "padding": 1},
                           {"out_channels": 2, "kernel_size": 3, "stride": 2,
                            "output_padding": 1}],
    "nn.ConvTranspose2d": [{"out_channels": 4, "kernel_size": 2, "stride": 2},
                           {"out_channels": 6, "kernel_size": 3, "padding": 1, "groups": 2,
                            "bias": False}],
    "nn.ConvTranspose3d": [{"out_channels": 2, "kernel_size": 2, "stride": 2},
                           {"out_channels": 3, "kernel_size": 3, "padding": 1}],
    "nn.Linear": [{"out_features": 8}, {"out_features": 5, "bias": False}],
    "nn.Bilinear": [{"out_features": 4}],
    "nn.Identity": _PLAIN,
    "nn.Flatten": [{}, {"start_dim": 2}],
    "nn.Unflatten": [{"dim": 1, "unflattened_size": [2, -1]},
                     {"dim": -1, "unflattened_size": [-1, 2]}],
    "nn.Embedding": [{"num_embeddings": 10, "embedding_dim": 8},
                     {"num_embeddings": 7, "embedding_dim": 4, "padding_idx": 0}],
    # pooling
    "nn.MaxPool1d": [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                          "ceil_mode": True},
                     {"kernel_size": 2, "return_indices": True}],
    "nn.MaxPool2d": [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                          "dilation": [1, 2]},
                     {"kernel_size": 2, "return_indices": True, "ceil_mode": True}],
    "nn.MaxPool3d": [{"kernel_size": 2}, {"kernel_size": [1, 2, 2], "return_indices": True}],
    "nn.AvgPool1d": [{"kernel_size": 2},
                     {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False}],
    "nn.AvgPool2d": [{"kernel_size": 2},
                     {"kernel_size": 3, "stride": 2, "ceil_mode": True, "divisor_override": 2}],
    "nn.AvgPool3d": [{"kernel_size": 2}, {"kernel_size": [1, 2, 2], "stride": 1}],
    "nn.LPPool1d": [{"norm_type": 2.0, "kernel_size": 2},
                    {"norm_type": 1.0, "kernel_size": 3, "stride": 2, "ceil_mode": True}],
    "nn.LPPool2d": [{"norm_type": 2.0, "kernel_size": 2},
                    {"norm_type": 3.0, "kernel_size": [2, 3]}],
    "nn.LPPool3d": [{"norm_type": 2.0, "kernel_size": 2}, {"norm_type": 1.0, "kernel_size": 1}],
    "nn.AdaptiveAvgPool1d": [{"output_size": 4}, {"output_size": 1}],
    "nn.AdaptiveAvgPool2d": [{"output_size": 1}, {"output_size": [2, None]}],
    "nn.AdaptiveAvgPool3d": [{"output_size": 1}, {"output_size": [None, 2, 2]}],
    "nn.AdaptiveMaxPool1d": [{"output_size": 3}, {"output_size": 2, "return_indices": True}],
    "nn.AdaptiveMaxPool2d": [{"output_size": [3, 2]}, {"output_size": 2, "return_indices": True}],
    "nn.AdaptiveMaxPool3d": [{"output_size": 2}, {"output_size": 1, "return_indices": True}],
    # normalization
    "nn.BatchNorm1d": [{}, {"affine": False, "momentum": 0.3}],
    "nn.BatchNorm2d": [{}, {"eps": 1e-3, "track_running_stats": False}],
    "nn.BatchNorm3d": [{}, {"momentum": None, "affine": False}],
    "nn.InstanceNorm1d": [{}, {"affine": True}],
    "nn.InstanceNorm2d": [{}, {"affine": True, "track_running_stats": True}],
    "nn.InstanceNorm3d": [{}, {"affine": True}],
    "nn.LayerNorm": [{"normalized_shape": [8]}, {"normalized_shape": [12], "bias": False},
                     {"normalized_shape": [8, 8]},
                     {"normalized_shape": [4], "elementwise_affine": False}],
    "nn.RMSNorm": [{"normalized_shape": [8]}, {"normalized_shape": [12], "eps": 1e-6},
                   {"normalized_shape": [4], "elementwise_affine": False}],
    "nn.GroupNorm": [{"num_groups": 2}, {"num_groups": 1, "affine": False}],
    "nn.LocalResponseNorm": [{"size": 2}, {"size": 3, "k": 2.0}],
    # activations
    **{f"nn.{name}": _PLAIN for name in (
        "ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid",
        "Softsign", "Tanhshrink", "LogSigmoid", "Softmax2d")},
    "nn.LeakyReLU": [{}, {"negative_slope": 0.2}],
    "nn.PReLU": [{}, {"num_parameters": 4, "init": 0.1}],
    "nn.ELU": [{"alpha": 0.5}],
    "nn.CELU": [{"alpha": 2.0}],
    "nn.GELU": [{}, {"approximate": "tanh"}],
    "nn.Hardtanh": [{"min_val": -2.0, "max_val": 3.0}],
    "nn.Softplus": [{"beta": 2.0}],
    "nn.Softshrink": [{"lambd": 0.25}],
    "nn.Hardshrink": [{"lambd": 0.1}],
    "nn.Threshold": [{"threshold": 0.1, "value": 0.0}],
    "nn.RReLU": [{"lower": 0.1, "upper": 0.3}],
    "nn.Softmax": [{"dim": 1}, {"dim": -1}],
    "nn.LogSoftmax": [{"dim": -1}],
    "nn.Softmin": [{"dim": 1}],
    "nn.GLU": [{}, {"dim": 1}],
    # dropout (eval mode: shapes only)
    "nn.Dropout": [{}, {"p": 0.2}],
    "nn.Dropout1d": [{"p": 0.1}],
    "nn.Dropout2d": [{}],
    "nn.Dropout3d": [{}],
    "nn.AlphaDropout": [{"p": 0.3}],
    "nn.FeatureAlphaDropout": [{}],
    # recurrent and attention
    "nn.RNN": [{"hidden_size": 6}, {"hidden_size": 4, "num_layers": 2, "bidirectional": True,
                                    "nonlinearity": "relu"},
               {"hidden_size": 5, "batch_first": True}],
    "nn.LSTM": [{"hidden_size": 6}, {"hidden_size": 6, "proj_size": 3, "batch_first": True},
                {"hidden_size": 4, "num_layers": 2, "bidirectional": True}],
    "nn.GRU": [{"hidden_size": 6}, {"hidden_size": 4, "batch_first": True, "bias": False}],
    "nn.RNNCell": [{"hidden_size": 6}, {"hidden_size": 4, "nonlinearity": "relu"}],
    "nn.LSTMCell": [{"hidden_size": 6}, {"hidden_size": 4, "bias": False}],
    "nn.GRUCell": [{"hidden_size": 6}],
    "nn.MultiheadAttention": [{"num_heads": 2}, {"num_heads": 4, "batch_first": True,
                                                 "need_weights": False},
                              {"num_heads": 2, "average_attn_weights": False,
                               "add_bias_kv": True}],
    "nn.TransformerEncoderLayer": [{"nhead": 2, "dim_feedforward": 16},
                                   {"nhead": 4, "dim_feedforward": 8, "batch_first": True,
                                    "norm_first": True, "activation": "gelu"}],
    "nn.TransformerEncoder": [{"nhead": 2, "num_layers": 2, "dim_feedforward": 16}],
    "nn.TransformerDecoderLayer": [{"nhead": 2, "dim_feedforward": 16}],
    "nn.TransformerDecoder": [{"nhead": 2, "num_layers": 1, "dim_feedforward": 16,
                               "batch_first": True}],
    "nn.Transformer": [{"nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1,
                        "dim_feedforward": 16}],
    # padding and resampling
    **{f"nn.{mode}Pad1d": [{"padding": 1}, {"padding": [2, -1]}]
       for mode in ("Zero", "Reflection", "Replication", "Circular")},
    **{f"nn.{mode}Pad2d": [{"padding": 1}, {"padding": [1, 0, 2, 1]}]
       for mode in ("Zero", "Reflection", "Replication", "Circular")},
    **{f"nn.{mode}Pad3d": [{"padding": 1}] for mode in ("Zero", "Reflection", "Replication",
                                                         "Circular")},
    "nn.ConstantPad1d": [{"padding": 2, "value": 0.5}],
    "nn.ConstantPad2d": [{"padding": [1, 2, 0, 1], "value": -1.0}],
    "nn.ConstantPad3d": [{"padding": 1, "value": 0.0}],
    "nn.Upsample": [{"scale_factor": 2}, {"size": 5, "mode": "nearest-exact"},
                    {"scale_factor": 1.5, "mode": "bilinear", "align_corners": False},
                    {"scale_factor": 2, "mode": "linear"}],
    "nn.UpsamplingNearest2d": [{"scale_factor": 2}, {"size": [4, 6]}],
    "nn.UpsamplingBilinear2d": [{"scale_factor": 2}, {"size": 5}],
    "nn.PixelShuffle": [{"upscale_factor": 2}],
    "nn.PixelUnshuffle": [{"downscale_factor": 2}],
    "nn.ChannelShuffle": [{"groups": 2}],
    # tensor ops
    **{f"op.{name}": _PLAIN for name in ("add", "sub", "mul", "div", "matmul", "relu",
                                          "sigmoid", "tanh", "silu", "neg", "abs", "exp",
                                          "log", "sqrt", "contiguous")},
    "op.cat": [{"dim": 1}, {"dim": -1}],
    "op.stack": [{"dim": 1}, {"dim": -1}],
    "op.gelu": [{"approximate": "tanh"}],
    "op.pow": [{}, {"exponent": 3.0}],
    "op.scale": [{"factor": 0.5}],
    "op.add_scalar": [{"value": 1.0}],
    "op.mean": [{"dim": 1}, {"dim": [-1, -2], "keepdim": True}, {}],
    "op.sum": [{"dim": -1}, {"dim": 1, "keepdim": True}],
    "op.amax": [{"dim": 1}],
    "op.amin": [{"dim": -1, "keepdim": True}],
    "op.max": [{"dim": 1}, {"dim": -1, "keepdim": True}],
    "op.softmax": [{"dim": 1}, {"dim": -1}],
    "op.log_softmax": [{"dim": -1}],
    "op.reshape": [{"shape": ["N", -1]}, {"shape": ["N", 2, -1]}, {"shape": [-1]}],
    "op.view": [{"shape": ["N", -1]}],
    "op.permute": [{"dims": [0, 2, 1]}, {"dims": [0, 2, 3, 1]}, {"dims": [1, 0]}],
    "op.transpose": [{"dim0": 1, "dim1": -1}, {}],
    "op.flatten": [{"start_dim": 1}, {"start_dim": -2, "end_dim": -1}],
    "op.squeeze": [{}, {"dim": [-1]}],
    "op.unsqueeze": [{"dim": 1}, {"dim": -1}],
    "op.expand": [{"sizes": [-1, -1, 3]}, {"sizes": [2, -1, -1]}],
    "op.getitem": [{"index": [":", "0"]}, {"index": ["...", "1:-1"]},
                   {"index": [":", "None", "::2"]}],
    "op.split": [{"split_size_or_sections": 2, "dim": 1},
                 {"split_size_or_sections": [1, 3], "dim": -1}],
    "op.chunk": [{"chunks": 3, "dim": 1}, {"chunks": 2, "dim": -1}],
    "op.interpolate": [{"scale_factor": 2}, {"size": 5, "mode": "nearest"},
                       {"scale_factor": 0.5, "mode": "area"}],
    "op.pad": [{"pad": [1, 1]}, {"pad": [1, 2, 0, 1], "mode": "reflect"},
               {"pad": [1, 1], "mode": "circular"}],
}

# Where graphs start: (shape, dtype). Token ids only feed embeddings.
INPUTS = [
    (["N", 4, 8, 8], "float32"),
    (["N", 8, 12], "float32"),
    (["N", 4, "L"], "float32"),
    (["N", 12], "float32"),
    (["L", "N", 8], "float32"),
    (["N", "L", 8], "float32"),
    (["N", 2, 4, 6, 6], "float32"),
    (["N", "L"], "int64"),
]

# view needs memory that reshape-free strides can describe; only these make sure of it.
_CONTIGUOUS_MAKERS = {"io.Input", "op.contiguous"}


def _index_outputs(type_name: str, params: dict) -> set[int]:
    """Output ports that hold int64 indices into the input (they can only be returned)."""
    if type_name == "op.max" or params.get("return_indices"):
        return {1}
    return set()


# -- probing a layer with the real inference engine ---------------------------------------------
class Probe:
    """A one-layer network whose inputs take any shape: which settings fit, and what they give.

    The node is edited in place and re-inferred with ``Inference.update``, as the editor does,
    so thousands of probes stay cheap; answers are cached per (layer, shapes)."""

    def __init__(self, arity: int):
        nodes = [Node(id=f"in{i}", type="io.Input", name=f"x{i}") for i in range(arity)]
        nodes.append(Node(id="layer", type="nn.Identity", name="layer"))
        edges = [Edge(source=f"in{i}", target="layer", target_port=i) for i in range(arity)]
        network = Network(name="probe", nodes=nodes, edges=edges)
        self.inputs = [f"in{i}" for i in range(arity)]
        self.inference = Inference(network, Project(networks=[network]),
                                   input_shapes={i: (1,) for i in self.inputs})
        self.cache: dict = {}

    def outputs(self, type_name: str, params: dict, shapes: tuple) -> list | None:
        key = (type_name, json.dumps(params, sort_keys=True), shapes)
        if key not in self.cache:
            node = self.inference.nodes["layer"]
            node.type, node.params = type_name, params
            self.inference.input_shapes.update(zip(self.inputs, shapes))
            self.inference.update({"layer", *self.inputs})
            state = self.inference.states["layer"]
            failed = any(d.is_error for d in state.diagnostics)
            self.cache[key] = None if failed else state.outputs
        return self.cache[key]


PROBES = {0: Probe(0), 1: Probe(1), 2: Probe(2)}
_TAKES_TWO = {s.type for s in all_specs() if s.max_inputs is None or s.max_inputs > 1}
_NEEDS_TWO = {s.type for s in all_specs() if s.min_inputs >= 2}


@dataclass(frozen=True)
class Tensor:
    node: str
    port: int
    shape: tuple  # symbolic, as the diagram shows it
    concrete: tuple  # at the sizes the model runs at (N=2, L=5)
    # "tokens" (only embeddings take them), "indices" (only returned), "held" (an attr.*
    # tensor, only merged into what the inputs feed)
    kind: str = "float"
    contiguous: bool = False


def _concrete_params(type_name: str, params: dict) -> dict:
    """The params as concrete_project writes them: a reshape to ["N", -1] becomes [2, -1]."""
    kinds = {p.name: p.kind for p in get_spec(type_name).params}
    return {k: [SIZES[d] if isinstance(d, str) else d for d in v]
            if kinds.get(k) == "shape" and isinstance(v, list) else v
            for k, v in params.items()}


def fits(type_name: str, params: dict, tensors: list[Tensor]) -> list[Tensor] | None:
    """The layer's outputs on these inputs, or None when either size set is refused or the
    two disagree (a chunk count that depends on how large N is, for one)."""
    probe = PROBES[len(tensors)]
    symbolic = probe.outputs(type_name, params, tuple(t.shape for t in tensors))
    concrete = probe.outputs(type_name, _concrete_params(type_name, params),
                             tuple(t.concrete for t in tensors))
    if symbolic is None or concrete is None or len(symbolic) != len(concrete) or \
            not all(agrees(s, c, SIZES) for s, c in zip(symbolic, concrete)):
        return None
    indices = _index_outputs(type_name, params)
    return [Tensor("", port, s, c, "indices" if port in indices else "float",
                   type_name in _CONTIGUOUS_MAKERS)
            for port, (s, c) in enumerate(zip(symbolic, concrete))]


def choices(tensors: list[Tensor]) -> dict[str, list[tuple[dict, list[Tensor]]]]:
    """{type: [(params, outputs)]} for every sample that fits these inputs."""
    kinds = [t.kind for t in tensors]
    if "indices" in kinds or ("tokens" in kinds and len(kinds) > 1):
        return {}
    found: dict[str, list] = {}
    for type_name, samples in SAMPLES.items():
        if (type_name == "nn.Embedding") != (kinds == ["tokens"]):
            continue
        if (len(tensors) == 1 and type_name in _NEEDS_TWO) or \
                (len(tensors) == 2 and type_name not in _TAKES_TWO):
            continue
        if type_name == "op.view" and not tensors[0].contiguous:
            continue
        for params in samples:
            outputs = fits(type_name, params, tensors)
            if outputs is not None:
                found.setdefault(type_name, []).append((params, outputs))
    return found


# -- a graph being drawn -----------------------------------------------------------------------
def base_name(type_name: str) -> str:
    return type_name.split(".", 1)[1].lower()


@dataclass
class Draft:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    tensors: list[Tensor] = field(default_factory=list)
    used: set[tuple[str, int]] = field(default_factory=set)

    @classmethod
    def start(cls, shape: list, dtype: str, name: str) -> Draft:
        draft = cls()
        draft.add_input(shape, dtype, name)
        return draft

    def add_input(self, shape: list, dtype: str, name: str) -> None:
        node_id = f"n{len(self.nodes)}"
        while name in self.names:
            name += "_"
        self.nodes.append(Node(id=node_id, type="io.Input", name=name,
                               params={"shape": shape, "dtype": dtype}))
        symbolic = tuple(Sym.named(d) if isinstance(d, str) else d for d in shape)
        concrete = tuple(SIZES[d] if isinstance(d, str) else d for d in shape)
        kind = "float" if dtype == "float32" else "tokens"
        self.tensors.append(Tensor(node_id, 0, symbolic, concrete, kind, contiguous=True))

    @property
    def names(self) -> set[str]:
        return {n.name for n in self.nodes}

    def add(self, type_name: str, params: dict, inputs: list[Tensor], outputs: list[Tensor],
            name: str, init: str = "default") -> str:
        node_id = f"n{len(self.nodes)}"
        while name in self.names:
            name += "_"
        self.nodes.append(Node(id=node_id, type=type_name, name=name, params=params, init=init))
        for port, tensor in enumerate(inputs):
            self.edges.append(Edge(source=tensor.node, source_port=tensor.port, target=node_id,
                                   target_port=port))
            self.used.add((tensor.node, tensor.port))
        self.tensors += [Tensor(node_id, t.port, t.shape, t.concrete, t.kind, t.contiguous)
                         for t in outputs]
        return node_id

    def unused(self) -> list[Tensor]:
        return [t for t in self.tensors if (t.node, t.port) not in self.used]

    def project(self, outputs: list[Tensor]) -> Project:
        nodes, edges = list(self.nodes), list(self.edges)
        for i, tensor in enumerate(outputs):
            nodes.append(Node(id=f"out{i}", type="io.Output", name=f"result_{i}"))
            edges.append(Edge(source=tensor.node, source_port=tensor.port, target=f"out{i}"))
        return Project(name="random", networks=[Network(name="random", nodes=nodes,
                                                        edges=edges)])


# Names a user might give that generated code also likes to use for its variables.
_TAKEN_NAMES = ("x", "h", "out", "y", "z", "hidden", "features", "value", "skip", "identity")
_INPUT_NAMES = ("x", "inputs", "tokens", "h", "features_of_the_second_image_in_the_pair")


@st.composite
def held_tensor(draw, draft: Draft, tensor: Tensor) -> None:
    """A parameter or buffer the module holds (attr.*), shaped to broadcast over ``tensor``
    without its batch, added to it or multiplied with it."""
    sizes = [1, *tensor.shape[1:]] if tensor.shape else []
    if not all(isinstance(size, int) for size in sizes):
        return
    type_name = draw(st.sampled_from(("attr.Parameter", "attr.Buffer")))
    params = {"shape": sizes, "fill": draw(st.sampled_from(("zeros", "ones", "full", "normal"))),
              "value": 0.02}
    held = fits(type_name, params, [])
    assert held is not None, params
    # Only ever merged with what the inputs feed: on its own it would reach no input.
    held = [replace(t, kind="held") for t in held]
    node = draft.add(type_name, params, [], held,
                     draw(st.sampled_from(("pos_embed", "scale", "mask", "x"))))
    merge = draw(st.sampled_from(("op.add", "op.mul")))
    inputs = [tensor, draft.tensors[-1]]
    assert draft.tensors[-1].node == node
    draft.add(merge, {}, inputs, fits(merge, {}, inputs), base_name(merge))


@st.composite
def graphs(draw, max_steps: int, branching: bool) -> Project:
    draft = Draft()
    for _ in range(draw(st.integers(1, 2)) if branching else 1):
        shape, dtype = draw(st.sampled_from(INPUTS))
        draft.add_input(shape, dtype, draw(st.sampled_from(_INPUT_NAMES)))
    for _ in range(draw(st.integers(1, max_steps))):
        usable = [t for t in draft.tensors if t.kind in ("float", "tokens")]
        if not branching:
            usable = [t for t in usable if t.node == draft.tensors[-1].node] or usable
        inputs = [draw(st.sampled_from(usable))]
        if branching and inputs[0].kind == "float" and draw(st.integers(0, 4)) == 0:
            draw(held_tensor(draft, inputs[0]))
            continue
        if branching and draw(st.integers(0, 2)) == 0:
            inputs.append(draw(st.sampled_from(usable)))
        options = choices(inputs) or choices(inputs[:1])
        if not choices(inputs):
            inputs = inputs[:1]
        type_name = draw(st.sampled_from(sorted(options)))
        params, outputs = draw(st.sampled_from(options[type_name]))
        base = base_name(type_name)
        name = draw(st.sampled_from((f"{base}_{len(draft.nodes)}", base, *_TAKEN_NAMES,
                                     f"{base}_{len(draft.nodes)}_of_the_encoder_stack")))
        init = draw(st.sampled_from(INIT_SCHEMES)) if get_spec(type_name).torch_class \
            else "default"
        draft.add(type_name, params, inputs, outputs, name, init)
    returned = []
    for tensor in draft.unused():
        # A second output nobody reads may stay unread (written ``_``); the rest is returned.
        siblings_read = any((tensor.node, p) in draft.used for p in range(tensor.port))
        if not (siblings_read and draw(st.booleans())):
            returned.append(tensor)
    return draft.project(returned)


# -- running the generated code ------------------------------------------------------------------
def _checks_module_inputs(project: Project, model_class):
    """``model_class`` whose instances also check every module's inputs against inference:
    ops written inline in forward() are checked through whatever module or output reads them."""
    from tests.codegen_support import concrete_project

    concrete = concrete_project(project)
    network = concrete.networks[0]
    inference = Inference(network, concrete)

    def build(**kwargs):
        model = model_class(**kwargs)
        for node in network.nodes:
            sub = model._modules.get(node.name)
            if sub is not None:
                sub.register_forward_pre_hook(_input_check(node.name,
                                                           inference.states[node.id].inputs))
        return model

    return build


def _input_check(name: str, expected: list):
    def hook(_module, args):
        got = [tuple(t.shape) for t in flatten_outputs(args) if isinstance(t, torch.Tensor)]
        for port, shape in enumerate(expected):
            assert shape is None or got[port] == tuple(shape), \
                f"{name} input {port}: torch {got[port]}, inferred {shape}"
    return hook


def check_generated(project: Project, directory: Path) -> str:
    source, module, _ = generate_and_import(project, directory)
    network = project.networks[0]
    model_class = network_classes(project, source, module)[network.name]
    check_model(project, network, _checks_module_inputs(project, model_class))
    return source


# -- the tests -----------------------------------------------------------------------------------
def test_samples_name_every_catalog_type():
    assert set(SAMPLES) == {s.type for s in all_specs() if s.family != "io"}


def _sweep(shape: list, dtype: str) -> tuple[Project, set[str]]:
    """Every sample that fits this input directly, each as a branch of one graph."""
    draft = Draft.start(shape, dtype, "x")
    source = draft.tensors[0]
    for arity in (1, 2):
        for type_name, options in sorted(choices([source] * arity).items()):
            if arity == 2 and type_name not in _NEEDS_TWO:
                continue
            for params, outputs in options:
                draft.add(type_name, params, [source] * arity, outputs,
                          f"{base_name(type_name)}_{len(draft.nodes)}")
    types = {n.type for n in draft.nodes[1:]}
    return draft.project(draft.unused()), types


@pytest.mark.parametrize("shape, dtype", INPUTS, ids=[str(s) for s, _ in INPUTS])
def test_every_fitting_sample_generates_and_runs(shape, dtype, tmp_path):
    project, _ = _sweep(shape, dtype)
    check_generated(project, tmp_path)


def test_the_sweeps_cover_the_catalog():
    covered = set().union(*(_sweep(shape, dtype)[1] for shape, dtype in INPUTS))
    assert covered == set(SAMPLES), sorted(set(SAMPLES) - covered)


_SETTINGS = settings(max_examples=50, deadline=None, print_blob=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_SETTINGS
@given(graphs(max_steps=6, branching=False))
def test_random_chains_generate_and_run(project):
    note(project.model_dump_json(indent=1))
    with tempfile.TemporaryDirectory() as directory:
        check_generated(project, Path(directory))


@_SETTINGS
@given(graphs(max_steps=8, branching=True))
def test_random_dags_generate_and_run(project):
    note(project.model_dump_json(indent=1))
    with tempfile.TemporaryDirectory() as directory:
        check_generated(project, Path(directory))


@pytest.mark.parametrize("count", [2, 4, 5, 6, 12])
def test_many_outputs_stay_ruff_clean(count, tmp_path):
    """forward()'s return annotation once ran past the line limit from five outputs on."""
    draft = Draft.start(["N", 8], "float32", "x")
    source = draft.tensors[0]
    for _ in range(count):
        draft.add("nn.Linear", {"out_features": 3}, [source],
                  fits("nn.Linear", {"out_features": 3}, [source]), "fc")
    check_generated(draft.project(draft.unused()), tmp_path)


def _chain(shape: list, layers: list[tuple], input_name: str = "x",
           inputs_per_layer: int = 1) -> Project:
    """A straight chain (each layer fed the previous tensor, ``inputs_per_layer`` times)."""
    draft = Draft.start(shape, "float32", input_name)
    for type_name, params, name, *init in layers:
        inputs = [draft.tensors[-1]] * inputs_per_layer
        outputs = fits(type_name, params, inputs)
        assert outputs is not None, (type_name, params, inputs)
        draft.add(type_name, params, inputs, outputs, name, *init)
    return draft.project(draft.unused())


LONG = "a_rather_long_name_for_this_layer_in_the_encoder"

# Graphs that once generated code that would not run or was not ruff-clean, each pinned here.
REGRESSIONS = {
    # nn.Unflatten(dim, unflattened_size) needs dim, although the diagram's default is 1.
    "unflatten-default-dim": _chain(["N", 12], [("nn.Unflatten", {"unflattened_size": [3, -1]},
                                                 "unflatten")]),
    # x.split(...) of one piece is still a tuple: (piece,) = ...
    "split-into-one-piece": _chain(["N", 4], [("op.split", {"split_size_or_sections": 4,
                                                           "dim": 1}, "piece")]),
    # Unpacking targets longer than a line: ruff splits them, not the call.
    "long-unpacking-target": _chain(["N", 12], [("op.chunk", {"chunks": 6, "dim": 1}, LONG)]),
    # `a, b = self.layer(` too long: the right-hand side goes in parentheses.
    "long-call-head": _chain(["N", 4, 8], [("nn.MaxPool1d", {"kernel_size": 2,
                                                            "return_indices": True}, LONG)]),
    # An operation too long for one line in parentheses: one operand a line.
    "long-operation": _chain(["N", 4], [("op.add", {}, "total")], input_name=LONG + "_xx",
                             inputs_per_layer=2),
    # A subscript splits inside its brackets.
    "long-subscript": _chain(["N", 4, 9, 5, 6, 7, 8], [
        ("op.getitem", {"index": [":", "1:-1", "::2", "0:3", "-2:", "1:", "2:"]}, "part")],
        input_name=LONG),
    # _init_weights(self.<long name>, ...) split like any call.
    "long-init-call": _chain(["N", 4], [("nn.Linear", {"out_features": 3}, LONG,
                                         "kaiming_normal")]),
}


@pytest.mark.parametrize("name", REGRESSIONS)
def test_regressions_generate_and_run(name, tmp_path):
    check_generated(REGRESSIONS[name], tmp_path)
