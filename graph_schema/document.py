"""The document a user draws: a Project of networks, reusable blocks, notes and training setup.

These pydantic models check the *structure* of a file (types, required fields, sizes). Whether
the drawing makes sense (known layer types, fitting shapes, valid names) is the validator's job,
so that a project with mistakes still opens and can be repaired.
"""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

FORMAT_VERSION = 4
FLOWS = ("down", "right")  # which way a drawing reads: Project.flow, graph_schema.routing

# Ids are saved and referenced by edges; keep them short, printable and free of whitespace.
NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Text = Annotated[str, Field(max_length=200_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]

# Attribute names of torch.nn.Module (and the names generated code relies on). A node named
# like one of these would silently replace a method of the generated module.
RESERVED_NAMES = frozenset(
    {
        "forward", "torch", "nn", "F", "math", "super", "training",
        "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
        "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
        "float", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half",
        "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
        "named_modules", "named_parameters", "parameters", "register_backward_hook",
        "register_buffer", "register_forward_hook", "register_forward_pre_hook",
        "register_full_backward_hook", "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
        "register_module", "register_parameter", "register_state_dict_post_hook",
        "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
        "share_memory", "state_dict", "to", "to_empty", "train", "type", "xpu", "zero_grad",
        "reset_parameters",
    }
)

INIT_SCHEMES = (
    "default",
    "kaiming_normal",
    "kaiming_uniform",
    "xavier_normal",
    "xavier_uniform",
    "normal",
    "zeros",
    "orthogonal",
)


def is_literal(value: Any, depth: int = 0) -> bool:
    """Whether generated code can write ``value`` as a Python literal: None, a bool, an int,
    a finite float, a string, or a (not too deeply) nested list of them."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list) and depth < 8:
        return all(is_literal(item, depth + 1) for item in value)
    return False


def name_problem(name: str, forward_parameter: bool = True) -> str | None:
    """Why ``name`` cannot be an attribute name in generated code, or None if it can.

    ``self`` can be the attribute of a layer (``self.self = BertSelfAttention(...)``, as
    Hugging Face's BertAttention has it; generated code never names a local variable so), but
    not a forward parameter: pass ``forward_parameter=False`` for a name that is an attribute
    alone."""
    if name == "self" and forward_parameter:
        return "'self' is the module itself, not a name for an input"
    if not name.isidentifier():
        return f"{name!r} is not a valid Python identifier"
    if unicodedata.normalize("NFKC", name) != name:
        # Python reads identifiers in NFKC form: 'ｓｅｌｆ' is self, 'ﬁ' is fi.
        return f"{name!r} is read by Python as {unicodedata.normalize('NFKC', name)!r}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"{name!r} is a Python keyword"
    if name.startswith("__"):
        return f"{name!r} starts with a double underscore (reserved by Python)"
    if name in RESERVED_NAMES or name.startswith("_") and name.lstrip("_") in RESERVED_NAMES:
        return f"{name!r} would shadow a name the generated module relies on"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Position(_Strict):
    x: float = 0.0
    y: float = 0.0

    @field_validator("x", "y")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value) or abs(value) > 1e9:
            raise ValueError("a canvas position must be a finite number below 1e9")
        return value


BLOCK_PREFIX = "block:"


def block_type(block_name: str) -> str:
    """The node type that places a block: ``block:SE``."""
    return f"{BLOCK_PREFIX}{block_name}"


def block_name_of(type_name: str) -> str | None:
    """The block a node type places, or None when it is not a block placement."""
    return type_name[len(BLOCK_PREFIX):] if type_name.startswith(BLOCK_PREFIX) else None


class Node(_Strict):
    id: NodeId
    type: Name  # namespaced: "nn.Conv2d", "op.add", "io.Input", "block:SE"
    name: Name  # becomes the attribute / variable name in generated code
    params: dict[str, JsonValue] = Field(default_factory=dict)  # only what the user set
    position: Position = Field(default_factory=Position)
    init: Literal[INIT_SCHEMES] = "default"  # type: ignore[valid-type]
    notes: Text = ""
    # Calls the module of another node again, sharing its weights (a siamese encoder, one
    # ReLU used twice): this node has no module of its own and takes that node's params.
    reuses: NodeId | None = None
    # False: the module is built (its weights are in the state_dict) but forward never calls
    # it, like a submodule a model keeps for later; such a node has no connections.
    called: bool = True

    @property
    def block_name(self) -> str | None:
        """The block this node places, or None for a layer, an op or an input/output."""
        return block_name_of(self.type)


class Edge(_Strict):
    source: NodeId
    target: NodeId
    source_port: int = Field(default=0, ge=0, le=1024)
    target_port: int = Field(default=0, ge=0, le=1024)

    @property
    def key(self) -> tuple[str, int]:
        """An input port takes one edge, so the target end identifies an edge."""
        return (self.target, self.target_port)


class ModuleList(_Strict):
    """Nodes whose modules live in one ``nn.ModuleList`` attribute: the i-th node's module is
    ``self.<name>[i]``, so its weights are saved as ``<name>.<i>.*`` (as in the model it was
    imported from). Generated code loops over the list where the nodes form a chain."""

    name: Name
    nodes: list[NodeId] = Field(min_length=1, max_length=100_000)


ATTRIBUTE_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$"


class Tie(_Strict):
    """Two attributes holding one tensor: after construction, ``self.<target> =
    self.<source>`` (a decoder sharing the embedding's weight). Paths are dotted, as in
    ``state_dict`` keys, and start at a node, module list or held tensor of this graph."""

    target: Annotated[str, Field(max_length=1000, pattern=ATTRIBUTE_PATH)]
    source: Annotated[str, Field(max_length=1000, pattern=ATTRIBUTE_PATH)]


class Network(_Strict):
    """A graph of nodes. ``arguments`` are named values that node params can refer to with
    ``{"arg": "num_classes"}``; generated code turns them into constructor arguments.

    ``kind``: "class" is an ``nn.Module`` with a ``forward``; "sequential" is an
    ``nn.Sequential`` of a plain chain of layers, whose weights are saved by position
    (``0.weight``, ``1.weight``) rather than by node name; "kept" is a network that *is* its
    one block kept as source (an imported model whose own class could not be drawn): its
    class subclasses that one, so the weights keep the class's own names.
    """

    name: Name
    kind: Literal["class", "sequential", "kept"] = "class"
    nodes: list[Node] = Field(default_factory=list, max_length=200_000)
    edges: list[Edge] = Field(default_factory=list, max_length=400_000)
    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    module_lists: list[ModuleList] = Field(default_factory=list, max_length=10_000)
    tied: list[Tie] = Field(default_factory=list, max_length=10_000)
    notes: Text = ""

    @field_validator("arguments")
    @classmethod
    def _argument_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, default in value.items():
            problem = name_problem(key)
            if problem:
                raise ValueError(f"argument name: {problem}")
            if not is_literal(default):
                raise ValueError(f"argument {key!r}: {str(default)[:40]} cannot be a "
                                 f"constructor default (use numbers, text, true/false, null "
                                 f"or lists of them)")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Network:
        seen: set[str] = set()
        for node in self.nodes:
            if node.id in seen:
                raise ValueError(f"network {self.name!r}: node id {node.id!r} is used twice")
            seen.add(node.id)
        return self

    def node(self, node_id: str) -> Node | None:
        for node in self.nodes:
            if node.id == node_id:
                return node
        return None

    def node_map(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    def graph(self) -> nx.MultiDiGraph:
        """The topology: one graph node per node id, one edge per connection.

        Edges to unknown node ids are left out here; the validator reports them.
        """
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(node.id for node in self.nodes)
        for edge in self.edges:
            if edge.source in graph and edge.target in graph:
                graph.add_edge(edge.source, edge.target, source_port=edge.source_port,
                               target_port=edge.target_port)
        return graph

    def inputs(self) -> list[Node]:
        return [node for node in self.nodes if node.type == "io.Input"]

    def outputs(self) -> list[Node]:
        return [node for node in self.nodes if node.type == "io.Output"]


class ImportedName(_Strict):
    """A module-level name an opaque class's source uses: ``import <module> as <alias>`` or
    ``from <module> import <attribute> as <alias>``. Only torch and the standard library."""

    module: Annotated[str, Field(max_length=200,
                                 pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    attribute: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | \
        None = None
    alias: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

    @model_validator(mode="after")
    def _no_keywords(self) -> ImportedName:
        # `import math as class` is not Python: every part must be a plain name.
        for part in [*self.module.split("."), self.attribute or "x", self.alias]:
            if keyword.iskeyword(part):
                raise ValueError(f"import of {self.module!r}: {part!r} is a Python keyword")
        return self


class OpaqueCall(_Strict):
    """What one placement of an opaque block was seen to do: its constructor arguments,
    input and output shapes, and parameter count (the class itself is never run here)."""

    arguments: dict[str, JsonValue] = Field(default_factory=dict)
    inputs: list[list[int | str]] = Field(default_factory=list, max_length=64)
    outputs: list[list[int | str]] = Field(default_factory=list, max_length=64)
    parameters: int = Field(default=0, ge=0)
    # What the call returned, as an assignment pattern: x a tensor, _ anything else, tuples
    # and lists as written ("x, ([x], [x])": a tensor and a pair of one-tensor lists); the
    # outputs are its x's in order. Empty: not recorded (codegen reads the source).
    returns: Annotated[str, Field(max_length=4000, pattern=r"^[x_()\[\], ]*$")] = ""


class ViewNode(_Strict):
    """One step seen inside a kept class: a submodule it called, a tensor op, or one of its
    inputs and outputs."""

    id: NodeId
    # "nn.Linear" (a torch layer), "op.matmul" (a tensor op), "io.Input" / "io.Output", or a
    # user class's name ("Bottleneck").
    label: Name
    path: Annotated[str, Field(max_length=1000)] = ""  # a submodule's attribute path ("fc")
    outputs: list[list[Annotated[int, Field(ge=0)]]] = Field(default_factory=list,
                                                             max_length=64)


class ViewEdge(_Strict):
    source: NodeId
    target: NodeId
    target_port: int = Field(default=0, ge=0, le=1024)  # which argument of the target


class RecordedView(_Strict):
    """What a kept class was seen to do in one run of the model (torchview's recorder): its
    direct submodules and the tensor ops between them, with the shapes they returned.

    Display only: it never becomes code and is not signed (the kept source stays the truth),
    and it shows one run, so a branch the run did not take is not in it."""

    nodes: list[ViewNode] = Field(default_factory=list, max_length=5_000)
    edges: list[ViewEdge] = Field(default_factory=list, max_length=20_000)

    @model_validator(mode="after")
    def _edges_between_nodes(self) -> RecordedView:
        ids = [node.id for node in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError("a recorded view has two nodes with the same id")
        known = set(ids)
        for edge in self.edges:
            for end in (edge.source, edge.target):
                if end not in known:
                    raise ValueError(f"a recorded view's edge names node {end!r}, which "
                                     f"it does not have")
        return self


class OpaqueClass(_Strict):
    """A class kept as its original source because torch.fx could not trace it (control
    flow on tensor values, ...). Loading a project never runs it; generated code contains it
    verbatim, marked as such. The block's io nodes are its ports; it has no other nodes.
    ``view``: what it was seen to do inside, for the reader (see RecordedView)."""

    class_name: Name
    source: Annotated[str, Field(min_length=1, max_length=1_000_000)]
    origin: Annotated[str, Field(max_length=1000)] = ""  # where it came from, for the reader
    reason: Annotated[str, Field(max_length=2000)] = ""  # why it could not be traced
    imports: list[ImportedName] = Field(default_factory=list, max_length=200)
    # Other opaque blocks whose classes this source builds (kept verbatim too).
    requires: list[Name] = Field(default_factory=list, max_length=1000)
    calls: list[OpaqueCall] = Field(default_factory=list, max_length=10_000)
    # The HMAC that marks the source as trusted on this machine (graph_schema/trust.py); a
    # file from elsewhere, or edited by hand, has none that matches.
    signature: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9:_-]*$")] = ""
    view: RecordedView | None = None

    @model_validator(mode="after")
    def _one_class_definition(self) -> OpaqueClass:
        problem = opaque_source_problem(self.source, self.class_name)
        if problem:
            raise ValueError(f"opaque class {self.class_name!r}: {problem}")
        return self


def opaque_source_problem(source: str, class_name: str) -> str | None:
    """Why ``source`` is not exactly one class (or helper function) definition named
    ``class_name`` (parsed, never run), or None."""
    problem = name_problem(class_name)
    if problem:
        return f"the class name: {problem}"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        return f"the source is not valid Python ({type(err).__name__}: {err})"
    # One function is a helper a kept class calls (a module-level `def conv1x1_block`).
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.ClassDef, ast.FunctionDef)):
        return ("the source must be exactly one class definition (or, for a helper a kept "
                "class uses, one function definition) and nothing else")
    if tree.body[0].name != class_name:
        kind = "class" if isinstance(tree.body[0], ast.ClassDef) else "function"
        return f"the source defines {kind} {tree.body[0].name!r}, not {class_name!r}"
    return None


class Block(Network):
    """A reusable sub-network, placed in other graphs as a node of type ``block:<name>``.

    Its ``io.Input`` / ``io.Output`` nodes are the block's ports, in the order they appear.
    Each instance sets the block's ``arguments`` through the instance node's params.
    ``opaque``: the block is an imported class kept as source (see OpaqueClass).
    """

    opaque: OpaqueClass | None = None


LOSSES = ("cross_entropy", "nll", "mse", "l1", "smooth_l1", "bce", "bce_with_logits")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
# Lightning's names, as the runner's --precision takes them.
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed")
# "auto" (a GPU when there is one), "cpu", "cuda" (a GPU, required) or one GPU by its index.
DEVICE_PATTERN = r"^(auto|cpu|cuda(:[0-9]{1,3})?)$"


class Training(_Strict):
    """What the paper says about training: kept with the drawing, used by the runner."""

    task: Literal["classification", "regression", "segmentation", "other"] = "classification"
    dataset: Annotated[str, Field(max_length=1000)] = ""
    loss: Literal[LOSSES] = "cross_entropy"  # type: ignore[valid-type]
    metrics: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=lambda: ["accuracy"], max_length=32
    )
    optimizer: Literal[OPTIMIZERS] = "adam"  # type: ignore[valid-type]
    learning_rate: float = Field(default=1e-3, gt=0, le=10)
    weight_decay: float = Field(default=0.0, ge=0, le=10)
    batch_size: int = Field(default=32, ge=1, le=1_000_000)
    epochs: int = Field(default=10, ge=1, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    # Where and how it runs. The defaults are the runner's own, so a file from before these
    # fields trains as it did.
    precision: Literal[PRECISIONS] = "32-true"  # type: ignore[valid-type]
    device: Annotated[str, Field(max_length=16, pattern=DEVICE_PATTERN)] = "auto"
    processes: int = Field(default=1, ge=1, le=1024)  # torchrun processes on this machine


class Project(_Strict):
    format_version: Literal[FORMAT_VERSION] = FORMAT_VERSION  # type: ignore[valid-type]
    name: Name = "untitled"
    notes: Text = ""
    networks: list[Network] = Field(min_length=1, max_length=1000)
    blocks: list[Block] = Field(default_factory=list, max_length=10_000)
    training: Training = Field(default_factory=Training)
    # Which way the drawing reads, for every graph of the project: inputs at the top and
    # ports on top and bottom ("down"), or inputs on the left and ports on the sides ("right").
    flow: Literal[FLOWS] = "down"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _unique_names(self) -> Project:
        for label, items in (("network", self.networks), ("block", self.blocks)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    raise ValueError(f"two {label}s are named {item.name!r}")
                seen.add(item.name)
        return self

    def network(self, name: str | None = None) -> Network:
        if name is None:
            return self.networks[0]
        for network in self.networks:
            if network.name == name:
                return network
        raise KeyError(name)

    def block(self, name: str) -> Block | None:
        for block in self.blocks:
            if block.name == name:
                return block
        return None
