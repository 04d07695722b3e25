"""One class's graph as a draft: its traced graph node by node, or its nn.Sequential chain.

Names stay exactly what they are in the module (they make the state_dict keys): a child
``conv1`` is a node ``conv1``, ``layers.0`` is the first member of the module list
``layers``, a parameter ``pos_embed`` is a held-tensor node ``pos_embed``. Children never
called, and tensors never read, still get nodes, so every weight has a home.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from torch import fx, nn

from codegen.importer.context import Context
from codegen.importer.draft import DraftNode, GraphDraft, Ids, Names
from codegen.importer.errors import Untraceable
from codegen.importer.held import tensor_params
from codegen.importer.leaves import LeafMismatch, catalog_spec, read_params
from codegen.importer.op_table import PASS, translate
from codegen.importer.values import Batch, TensorInfo, tensors_in
from codegen.importer.walk import Visit
from graph_schema.document import name_problem

_VALUE_ATTRIBUTES = {"values": 0, "indices": 1}  # torch.max(x, dim) returns a named pair


@dataclass(frozen=True)
class Port:
    node: str
    port: int


class Members:
    """What a module holds directly: children, module lists, parameters and buffers."""

    def __init__(self, module: nn.Module, named: bool = True):
        self.children: dict[str, nn.Module] = {}
        self.lists: dict[str, list[nn.Module]] = {}
        for name, child in module._modules.items():
            if child is None:
                continue
            if named:  # a sequential's children are named by position
                _check_attribute(module, name)
            if isinstance(child, nn.ModuleDict):
                raise Untraceable(f"it holds an nn.ModuleDict ('{name}'), which TorchCanvas "
                                  f"does not draw yet")
            if type(child) is nn.ModuleList:
                if any(m is not None and type(m) in (nn.ModuleList, nn.ModuleDict)
                       for m in child):
                    raise Untraceable(f"its module list '{name}' holds containers")
                self.lists[name] = list(child)
            else:
                self.children[name] = child
        self.tensors = {name: (t, True) for name, t in module._parameters.items()
                        if t is not None}
        self.tensors.update({name: (t, False) for name, t in module._buffers.items()
                             if t is not None})
        self.transient = set(module._non_persistent_buffers_set)
        for name in self.tensors:
            _check_attribute(module, name)

    def attribute_names(self) -> set[str]:
        return set(self.children) | set(self.lists) | set(self.tensors)


def _check_attribute(module: nn.Module, name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise Untraceable(f"its attribute {name!r} cannot be a name in generated code "
                          f"({problem})")


class _Builder:
    def __init__(self, module: nn.Module, batch: Batch, warnings: list[str],
                 kind: str = "class"):
        self.module = module
        self.members = Members(module, named=kind == "class")
        self.batch = batch
        self.warnings = warnings
        self.draft = GraphDraft(kind)
        self.names = Names(self.members.attribute_names())
        self.ids = Ids()
        self.placed: dict[int, str] = {}  # id(module) -> the node that builds it
        self.held: dict[str, str] = {}  # tensor attribute -> its node

    # -- nodes ---------------------------------------------------------------------------
    def add(self, type_name: str, name: str, **fields) -> DraftNode:
        node = DraftNode(self.ids.next(), type_name, name, **fields)
        self.draft.nodes.append(node)
        return node

    def link(self, source: Port, target: str, port: int) -> None:
        self.draft.edges.append((source.node, source.port, target, port))

    def module_node(self, child: nn.Module, name: str, visit: Visit | None,
                    called: bool = True) -> DraftNode:
        """A layer, or a placement of another class, for a module this graph holds."""
        if id(child) in self.placed:
            first = self.draft.node(self.placed[id(child)])
            return self.add(first.type, self.names.fresh(f"{first.name}_again"),
                            reuses=first.id, child=visit, module=child)
        spec = catalog_spec(child)
        if spec is not None:
            try:
                params = read_params(child, spec)
            except LeafMismatch as err:
                raise Untraceable(f"its layer '{name}' ({type(child).__name__}) cannot be "
                                  f"drawn: {err}") from None
            node = self.add(spec.type, name, params=params, child=visit, module=child,
                            called=called)
        else:
            node = self.add("", name, child=visit, module=child, called=called)
        self.placed[id(child)] = node.id
        return node

    def tensor_node(self, attribute: str) -> str:
        if attribute not in self.held:
            tensor, learned = self.members.tensors[attribute]
            persistent = attribute not in self.members.transient
            type_name, params = tensor_params(tensor, learned, persistent)
            self.held[attribute] = self.add(type_name, attribute, params=params).id
        return self.held[attribute]

    def input_node(self, name: str, value: TensorInfo, second: Any) -> Port:
        node = self.add("io.Input", self.names.fresh(name),
                        input_shape=self.batch.shape(value, second), input_dtype=value.dtype)
        return Port(node.id, 0)

    def output_nodes(self, ports: list[Port]) -> None:
        for index, port in enumerate(ports):
            name = "output" if len(ports) == 1 else f"output{index}"
            node = self.add("io.Output", self.names.fresh(name))
            self.link(port, node.id, 0)

    # -- what is held but not used ---------------------------------------------------------
    def finish(self) -> GraphDraft:
        for name, child in self.members.children.items():
            if id(child) not in self.placed:
                self.module_node(child, name, None, called=False)
        for name, members in self.members.lists.items():
            ids = []
            for index, member in enumerate(members):
                node_id = self.placed.get(id(member))
                if node_id is None:
                    node_id = self.module_node(member, self.names.fresh(f"{name}_{index}"),
                                               None, called=False).id
                ids.append(node_id)
            self.draft.module_lists[name] = ids
        for attribute in self.members.tensors:
            self.tensor_node(attribute)
        return self.draft


# -- a catalog layer that is the model itself -----------------------------------------------
def layer_body(visit: Visit, batch: Batch, warnings: list[str]) -> GraphDraft:
    """The model is one torch layer (SPEC ``torch.nn:Linear``): inputs, that layer, outputs.
    A class cannot *be* the layer, so its weights sit under the node's name
    (``linear.weight``)."""
    layer = visit.module
    builder = _Builder(nn.Module(), batch, warnings)  # holds nothing: the layer is a node
    ports = []
    for index, value in enumerate(visit.inputs):
        if not isinstance(value, TensorInfo):
            raise Untraceable(f"its input {index} is not a tensor")
        second = visit.inputs_b[index] if visit.inputs_b else None
        name = "x" if len(visit.inputs) == 1 else f"x{index}"
        ports.append(builder.input_node(name, value, second))
    made = builder.module_node(layer, builder.names.fresh(type(layer).__name__.lower()), visit)
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    results = _leaves(_structure(visit.output, made.id, [0]))
    builder.output_nodes([port for port in results if port is not None])
    return builder.draft


# -- a traced class ----------------------------------------------------------------------------
def traced_body(visit: Visit, batch: Batch, warnings: list[str]) -> GraphDraft:
    builder = _Builder(visit.module, batch, warnings)
    ctx = Context(visit, batch, warnings)
    sources: dict[str, Any] = {}
    for node in visit.traced.graph.nodes:
        value = visit.values.get(node.name)
        if node.op == "placeholder":
            if isinstance(value, TensorInfo):
                sources[node.name] = builder.input_node(
                    node.target, value, visit.values_b.get(node.name))
        elif node.op == "get_attr":
            if node.target not in builder.members.tensors:
                raise Untraceable(f"its forward reads {node.target!r}, which is not a tensor "
                                  f"it holds itself")
            sources[node.name] = Port(builder.tensor_node(node.target), 0)
        elif node.op == "call_module":
            sources[node.name] = _call_module(builder, ctx, sources, node)
        elif node.op in ("call_function", "call_method"):
            if tensors_in(value):
                sources[node.name] = _call_op(builder, ctx, sources, node)
        elif node.op == "output":
            builder.output_nodes(_output_ports(ctx, sources, node.args[0]))
    return builder.finish()


def _flat_ports(ctx: Context, sources: dict, arg: Any) -> list[Port]:
    """The tensors in an argument, in order: ``(h, c)`` is two ports."""
    if isinstance(arg, fx.Node):
        found = sources.get(arg.name)
        return [p for p in _leaves(found) if p is not None] if found is not None else []
    if isinstance(arg, (tuple, list)):
        return [p for item in arg for p in _flat_ports(ctx, sources, item)]
    return []


def _leaves(structure: Any) -> list:
    if isinstance(structure, (tuple, list)):
        return [leaf for item in structure for leaf in _leaves(item)]
    return [structure]


def _structure(value: Any, node_id: str, counter: list[int]) -> Any:
    """Ports for every tensor of a returned value, numbered depth first."""
    if isinstance(value, TensorInfo):
        counter[0] += 1
        return Port(node_id, counter[0] - 1)
    if isinstance(value, (tuple, list)):
        return tuple(_structure(v, node_id, counter) for v in value)
    return None


def _call_module(builder: _Builder, ctx: Context, sources: dict, node: fx.Node) -> Any:
    parts = node.target.split(".")
    members = builder.members
    if len(parts) == 1 and parts[0] in members.children:
        name = parts[0]
    elif len(parts) == 2 and parts[0] in members.lists and parts[1].isdigit():
        name = builder.names.fresh(f"{parts[0]}_{parts[1]}")
    else:
        raise Untraceable(f"its forward calls '{node.target}', a module inside one of its "
                          f"children")
    child = builder.module.get_submodule(node.target)
    visit = ctx.visit.calls[node.name]
    made = builder.module_node(child, name, visit)
    ports = _module_inputs(ctx, sources, node, child, made)
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    return _structure(ctx.value(node), made.id, [0])


def _module_inputs(ctx: Context, sources: dict, node: fx.Node, child: nn.Module,
                   made: DraftNode) -> list[Port]:
    spec = catalog_spec(child)
    if spec is None:  # a class: tensors in the order of its forward's parameters
        try:
            bound = inspect.signature(child.forward).bind(*node.args, **node.kwargs)
        except TypeError as err:
            raise Untraceable(f"it calls '{node.target}' with arguments its forward does not "
                              f"take ({err})") from None
        return [p for value in bound.arguments.values() for p in _flat_ports(ctx, sources, value)]
    for key, value in node.kwargs.items():
        if key not in spec.forward_params or ctx.is_tensor(value):
            raise Untraceable(f"it calls '{node.target}' with {key}=..., which the catalog's "
                              f"{spec.type} does not take")
        if made.reuses is None:
            made.params[key] = ctx.constant(value, f"'{node.target}'")
    return _flat_ports(ctx, sources, list(node.args))


def _call_op(builder: _Builder, ctx: Context, sources: dict, node: fx.Node) -> Any:
    if node.op == "call_function" and node.target.__name__ in ("getitem", "getattr"):
        base, key = node.args
        structure = sources.get(base.name) if isinstance(base, fx.Node) else None
        if isinstance(structure, tuple):  # picking one result of a call that returns several
            index = _VALUE_ATTRIBUTES.get(key, key) if isinstance(key, str) else key
            if isinstance(index, int) and not isinstance(index, bool):
                return structure[index]
            raise Untraceable(f"it picks {key!r} out of several results")
        if node.target.__name__ == "getattr":
            raise Untraceable(f"it reads the attribute {key!r} of a tensor")
    draft = translate(ctx, node)
    ports = [p for arg in draft.inputs for p in _flat_ports(ctx, sources, arg)]
    if draft.type == PASS:
        return ports[0]
    made = builder.add(draft.type, builder.names.fresh(node.name), params=draft.params)
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    return _structure(ctx.value(node), made.id, [0])


def _output_ports(ctx: Context, sources: dict, result: Any) -> list[Port]:
    value = ctx.value(result)
    items = value if isinstance(value, (tuple, list)) else (value,)
    if not items or not all(isinstance(item, TensorInfo) for item in items):
        raise Untraceable("its forward returns something other than a tensor or a flat tuple "
                          "of tensors")
    return _flat_ports(ctx, sources, result)


# -- an nn.Sequential ----------------------------------------------------------------------
def sequential_body(module: nn.Module, visit: Visit | None, batch: Batch,
                    warnings: list[str]) -> GraphDraft:
    """A chain: positional children make a ``sequential`` graph; named ones (an OrderedDict)
    a plain class whose attributes keep those names."""
    names = list(module._modules)
    positional = names == [str(i) for i in range(len(names))]
    if not positional and any(name_problem(n) for n in names):
        raise Untraceable("it holds an nn.Sequential whose children are named neither by "
                          "position nor by valid attribute names")
    builder = _Builder(module, batch, warnings, "sequential" if positional else "class")
    if positional:
        builder.names = Names()
    shape, dtype = None, "float32"
    if visit is not None and visit.inputs and isinstance(visit.inputs[0], TensorInfo):
        first = visit.inputs[0]
        other = visit.inputs_b[0] if visit.inputs_b else None
        shape, dtype = batch.shape(first, other), first.dtype
    entry = builder.add("io.Input", "x", input_shape=shape, input_dtype=dtype)
    previous = Port(entry.id, 0)
    for index, (name, child) in enumerate(module._modules.items()):
        step = visit.steps[index] if visit is not None and visit.steps else None
        label = builder.names.fresh(type(child).__name__.lower()) if positional else name
        made = builder.module_node(child, label, step)
        builder.link(previous, made.id, 0)
        previous = Port(made.id, 0)
    builder.output_nodes([previous])
    return builder.draft
