"""Random valid graphs over the whole catalog, for the property-based code generation tests.

A graph starts at an ``io.Input`` and grows one node at a time: hypothesis picks a tensor (or
two, for a merge), then a layer type and one of its SAMPLES settings among those the real
inference engine accepts for that input, both with symbolic sizes and with the sizes the model
runs at (a size that is fine as ``L`` but too small at L=5 must not slip through). Every tensor
nobody consumes becomes an ``io.Output``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from hypothesis import strategies as st

from graph_schema.catalog import all_specs, get_spec
from graph_schema.dims import Sym
from graph_schema.document import INIT_SCHEMES, Edge, Network, Node, Project
from graph_schema.inference import Inference
from tests.codegen_samples import INPUTS, NOT_SWEPT, SAMPLES
from tests.codegen_support import (
    SIZES,
    agrees,
    check_model,
    concrete_params,
    concrete_project,
    generate_and_import,
    network_classes,
)
from tests.torch_eval import flatten_outputs

# view needs memory that reshape-free strides can describe; only these make sure of it.
_CONTIGUOUS_MAKERS = {"io.Input", "op.contiguous"}
# Layers that view their input inside torch: F.local_response_norm calls .view on 4-D and
# larger inputs, which fails after a transpose; inference cannot know the strides.
_NEEDS_CONTIGUOUS = {"op.view", "nn.LocalResponseNorm"}


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
NEEDS_TWO = {s.type for s in all_specs() if s.min_inputs >= 2}


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


def fits(type_name: str, params: dict, tensors: list[Tensor]) -> list[Tensor] | None:
    """The layer's outputs on these inputs, or None when either size set is refused or the
    two disagree (a chunk count that depends on how large N is, for one)."""
    probe = PROBES[len(tensors)]
    symbolic = probe.outputs(type_name, params, tuple(t.shape for t in tensors))
    concrete = probe.outputs(type_name, concrete_params(type_name, params),
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
        if type_name in NOT_SWEPT or (type_name == "nn.Embedding") != (kinds == ["tokens"]):
            continue
        if (len(tensors) == 1 and type_name in NEEDS_TWO) or \
                (len(tensors) == 2 and type_name not in _TAKES_TWO):
            continue
        if type_name in _NEEDS_CONTIGUOUS and not tensors[0].contiguous:
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
    """A parameter or buffer the module holds (attr.*), merged into ``tensor``: shaped to
    broadcast over it without its batch and added or multiplied, or, as a class token, one
    step along dimension 1, expanded to the batch (expand_to) and concatenated in front."""
    token = len(tensor.shape) >= 2 and tensor.shape[0] == Sym.named("N") and \
        draw(st.booleans())
    sizes = [1, 1, *tensor.shape[2:]] if token else [1, *tensor.shape[1:]] if tensor.shape \
        else []
    if not all(isinstance(size, int) for size in sizes):
        return
    type_name = draw(st.sampled_from(("attr.Parameter", "attr.Buffer")))
    params = {"shape": sizes, "fill": draw(st.sampled_from(("zeros", "ones", "full", "normal"))),
              "value": 0.02}
    held = fits(type_name, params, [])
    assert held is not None, params
    # Only ever merged with what the inputs feed: on its own it would reach no input.
    held = [replace(t, kind="held") for t in held]
    draft.add(type_name, params, [], held,
              draw(st.sampled_from(("pos_embed", "cls_token", "scale", "mask", "x"))))
    if token:
        expand = {"sizes": ["N", *[-1] * (len(sizes) - 1)]}
        _add_fitting(draft, "op.expand_to", expand, [draft.tensors[-1], tensor], "tokens")
        _add_fitting(draft, "op.cat", {"dim": 1}, [draft.tensors[-1], tensor], "with_token")
    else:
        merge = draw(st.sampled_from(("op.add", "op.mul")))
        _add_fitting(draft, merge, {}, [tensor, draft.tensors[-1]], base_name(merge))


def _add_fitting(draft: Draft, type_name: str, params: dict, inputs: list[Tensor],
                 name: str) -> None:
    outputs = fits(type_name, params, inputs)
    assert outputs is not None, (type_name, params, inputs)
    draft.add(type_name, params, inputs, outputs, name)


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
