"""One class's graph as a draft, from its traced graph node by node (a model that is one
torch layer is that layer between its inputs and outputs). drafting.py has the builder and
the rules for names; chains.py draws nn.Sequential.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import fx, nn

from codegen.importer.chains import passes_tuples, positional
from codegen.importer.context import Context
from codegen.importer.draft import DraftNode, GraphDraft
from codegen.importer.drafting import GraphBuilder, Port, flat_ports, leaves, structure_of
from codegen.importer.holders import HolderCalls, holder_calls, in_order
from codegen.importer.import_errors import Untraceable
from codegen.importer.inplace import InPlace, changed_inputs, read_after
from codegen.importer.leaves import catalog_spec
from codegen.importer.op_table import PASS, translate
from codegen.importer.values import Batch, Fields, TensorInfo, tensors_in
from codegen.importer.walk import Visit

_VALUE_ATTRIBUTES = {"values": 0, "indices": 1}  # torch.max(x, dim) returns a named pair


# -- a catalog layer that is the model itself -----------------------------------------------
def layer_body(visit: Visit, batch: Batch, warnings: list[str]) -> GraphDraft:
    """The model is one torch layer (SPEC ``torch.nn:Linear``): inputs, that layer, outputs.
    A class cannot *be* the layer, so its weights sit under the node's name
    (``linear.weight``)."""
    layer = visit.module
    builder = GraphBuilder(nn.Module(), batch, warnings)  # holds nothing: the layer is a node
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
    results = leaves(structure_of(visit.output, made.id, [0]))
    builder.output_nodes([port for port in results if port is not None])
    return builder.draft


# -- a traced class ----------------------------------------------------------------------------
def traced_body(visit: Visit, batch: Batch, warnings: list[str]) -> GraphDraft:
    builder = GraphBuilder(visit.module, batch, warnings)
    ctx = Context(visit, batch, warnings)
    graph = visit.traced.graph
    in_place = InPlace(graph, visit.values, visit.module.get_submodule)
    members = builder.members
    groups = holder_calls(graph, members.children, members.lists, visit.values)
    sources: dict[str, Any] = {}
    for item in in_order(graph, groups):
        if isinstance(item, HolderCalls):
            _holder(builder, ctx, in_place, sources, item)
        else:
            _node(builder, ctx, in_place, sources, item)
    return builder.finish()


def _node(builder: GraphBuilder, ctx: Context, in_place: InPlace, sources: dict,
          node: fx.Node) -> None:
    visit = ctx.visit
    value = visit.values.get(node.name)
    if node.op == "placeholder":
        if isinstance(value, TensorInfo):
            sources[node.name] = builder.input_node(node.target, value,
                                                    visit.values_b.get(node.name))
    elif node.op == "get_attr":
        if node.target not in builder.members.tensors:
            raise Untraceable(f"its forward reads {node.target!r}, which is not a tensor it "
                              f"holds itself")
        sources[node.name] = Port(builder.tensor_node(node.target), 0)
    elif node.op == "call_module":
        sources[node.name] = _call_module(builder, ctx, sources, node)
        _refuse_reading_changed(ctx, in_place, node)
    elif node.op in ("call_function", "call_method"):
        if tensors_in(value):
            sources[node.name] = _call_op(builder, ctx, sources, node)
    elif node.op == "output":
        named = visit.output if isinstance(visit.output, Fields) else None
        builder.output_nodes(_output_ports(builder, ctx, sources, node.args[0]),
                             named.names if named is not None else None)
    _follow_in_place(in_place, sources, node)


def _follow_in_place(in_place: InPlace, sources: dict, node: fx.Node) -> None:
    """An op that changed a tensor in place: later uses of that tensor read the op."""
    base = in_place.base(node)
    if base is not None and node.name in sources and base.name in sources:
        sources[base.name] = sources[node.name]


def _holder(builder: GraphBuilder, ctx: Context, in_place: InPlace, sources: dict,
            group: HolderCalls) -> None:
    """The calls into one holder (holders.py), drawn inside it: the holder's node takes the
    caller's tensors those calls read and gives back the ones the caller reads later."""
    module = builder.members.children[group.name]
    inner = GraphBuilder(module, builder.batch, builder.warnings)
    local: dict[str, Any] = {}  # the holder's own sources
    entering: dict[Port, Port] = {}  # the caller's ports -> the holder's inputs, in order
    inside = set(group.nodes)
    for node in group.nodes:
        for arg in node.all_input_nodes:
            if arg not in inside and arg.name not in local and arg.name in sources:
                local[arg.name] = _enter(inner, ctx, sources, arg, entering)
        if node.op == "call_module":
            target = node.target[len(group.name) + 1:]
            local[node.name] = _call_module(inner, ctx, local, node, target)
            _refuse_reading_changed(ctx, in_place, node)
        else:
            local[node.name] = _pick(ctx, local, node)
        _follow_in_place(in_place, local, node)
    leaving: dict[Port, int] = {}
    for node in group.nodes:
        if any(user not in inside for user in node.users):
            for port in leaves(local[node.name]):
                if port is not None and port not in leaving:
                    leaving[port] = len(leaving)
    inner.output_nodes(list(leaving))
    made = builder.module_node(module, group.name, None)
    made.view = inner.finish()
    made.view.notes = (f"What {type(builder.module).__name__} calls inside its "
                       f"'{group.name}' ({type(module).__name__}), one call after the other; "
                       f"{type(module).__name__}'s own forward is never called.")
    for index, port in enumerate(entering):  # the holder's inputs come in this order
        builder.link(port, made.id, index)
    for node in group.nodes:
        if any(user not in inside for user in node.users):
            sources[node.name] = _renumbered(local[node.name], made.id, leaving)


def _enter(inner: GraphBuilder, ctx: Context, sources: dict, arg: fx.Node,
           entering: dict[Port, Port]) -> Any:
    """The caller's value ``arg`` as the holder's inputs, one per tensor in it (a tensor
    that enters twice, under two names, is one input)."""
    values = leaves(ctx.value(arg))
    second = ctx.second(arg)
    seconds = leaves(second) if second is not None else []
    counter = [0]

    def enter(port: Any) -> Any:
        if isinstance(port, tuple):
            return tuple(enter(item) for item in port)
        position = counter[0]
        counter[0] += 1
        if port is None or port in entering:
            return entering.get(port)
        value = values[position] if position < len(values) else None
        if not isinstance(value, TensorInfo):
            raise Untraceable(f"it hands '{arg.name}' to a module inside a child, and it is "
                              f"not a tensor")
        other = seconds[position] if position < len(seconds) else None
        entering[port] = inner.input_node(arg.name, value, other)
        return entering[port]

    return enter(sources[arg.name])


def _pick(ctx: Context, local: dict, node: fx.Node) -> Any:
    base, key = node.args
    index = _place(ctx.value(base), key)
    found = local.get(base.name)
    if not isinstance(found, tuple) or index is None:
        raise Untraceable(f"it picks {key!r} out of what a module inside a child returns")
    return found[index]


def _place(value: Any, key: Any) -> int | None:
    """Where ``value[key]`` or ``value.key`` sits among the results of a call: a number as
    it is, a name by the result's own field names (``out["last_hidden_state"]``,
    ``torch.max(x, 1).indices``)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    if isinstance(value, Fields):
        return value.place(key)
    return _VALUE_ATTRIBUTES.get(key) if isinstance(key, str) else None


def _renumbered(structure: Any, node_id: str, leaving: dict[Port, int]) -> Any:
    if isinstance(structure, tuple):
        return tuple(_renumbered(item, node_id, leaving) for item in structure)
    if structure is None:
        return None
    return Port(node_id, leaving[structure])


def _refuse_reading_changed(ctx: Context, in_place: InPlace, node: fx.Node) -> None:
    """A drawn class's in-place ops become out-of-place ones in generated code, so a caller
    that reads a tensor again after a child changed it in place would read the old one."""
    visit = ctx.visit.calls.get(node.name)
    if visit is None or visit.kind != "traced" or visit.traced is None:
        return  # a layer, or a class kept as source: they change it in generated code too
    changed = changed_inputs(visit.traced, visit.values, visit.module.get_submodule)
    if not changed:
        return
    try:
        bound = inspect.signature(visit.module.forward).bind(*node.args, **node.kwargs)
    except TypeError:
        return  # _module_inputs says why
    for name in sorted(changed):
        if name in bound.arguments and read_after(in_place, node, bound.arguments[name]):
            raise Untraceable(f"'{node.target}' changes its input {name!r} in place, and its "
                              f"forward reads that tensor again afterwards")


def _call_module(builder: GraphBuilder, ctx: Context, sources: dict, node: fx.Node,
                 target: str | None = None) -> Any:
    """A call of a module the builder's module holds; ``target`` is its path from there
    (the node's own target, unless the call goes into a holder's modules)."""
    target = target or node.target
    parts = target.split(".")
    members = builder.members
    if len(parts) == 1 and parts[0] in members.children:
        name = parts[0]
    elif len(parts) == 2 and parts[0] in members.lists and parts[1].isdigit():
        name = builder.names.fresh(f"{parts[0]}_{parts[1]}")
    else:
        raise Untraceable(f"its forward calls '{node.target}', a module inside one of its "
                          f"children")
    child = builder.module.get_submodule(target)
    visit = ctx.visit.calls[node.name]
    if len(parts) == 1 and visit.kind == "sequential" and visit.steps and \
            positional(child) and passes_tuples(visit):
        return _calls_in_turn(builder, ctx, sources, node, target, child, visit)
    made = builder.module_node(child, name, visit)
    ports = _module_inputs(ctx, sources, node, child, made)
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    return structure_of(ctx.value(node), made.id, [0])


def _calls_in_turn(builder: GraphBuilder, ctx: Context, sources: dict, node: fx.Node,
                   name: str, sequential: nn.Module, visit: Visit) -> Any:
    """``self.body((a, b))`` where ``body`` is an nn.Sequential whose layers hand tuples on:
    its layers become a module list called one after the other with every tensor. A module
    list keeps the sequential's state_dict keys (``body.0.*``); an nn.Sequential in generated
    code could pass only one value."""
    if name in builder.members.children:  # drawn as a list from now on (finish() lists it)
        del builder.members.children[name]
        builder.members.lists[name] = list(sequential._modules.values())
    ports = flat_ports(ctx, sources, [*node.args, *node.kwargs.values()])
    structure: Any = None
    for index, (layer, step) in enumerate(zip(sequential._modules.values(), visit.steps)):
        made = builder.module_node(layer, builder.names.fresh(f"{name}_{index}"), step)
        for position, port in enumerate(ports):
            builder.link(port, made.id, position)
        structure = structure_of(step.output, made.id, [0])
        ports = [port for port in leaves(structure) if port is not None]
    return structure


def _module_inputs(ctx: Context, sources: dict, node: fx.Node, child: nn.Module,
                   made: DraftNode) -> list[Port]:
    spec = catalog_spec(child)
    if spec is None:  # a class: tensors in the order of its forward's parameters
        try:
            bound = inspect.signature(child.forward).bind(*node.args, **node.kwargs)
        except TypeError as err:
            raise Untraceable(f"it calls '{node.target}' with arguments its forward does not "
                              f"take ({err})") from None
        return [p for value in bound.arguments.values() for p in flat_ports(ctx, sources, value)]
    for key, value in node.kwargs.items():
        if key not in spec.forward_params or ctx.is_tensor(value):
            raise Untraceable(f"it calls '{node.target}' with {key}=..., which the catalog's "
                              f"{spec.type} does not take")
        if made.reuses is None:
            made.params[key] = ctx.constant(value, f"'{node.target}'")
    ports = flat_ports(ctx, sources, list(node.args))
    if len(ports) > len(spec.inputs) and not any(port.variadic for port in spec.inputs):
        raise Untraceable(f"it calls '{node.target}' with {len(ports)} tensors, and the "
                          f"catalog's {spec.type} takes {len(spec.inputs)}")
    return ports


def _call_op(builder: GraphBuilder, ctx: Context, sources: dict, node: fx.Node) -> Any:
    if node.op == "call_function" and node.target.__name__ in ("getitem", "getattr"):
        base, key = node.args
        structure = sources.get(base.name) if isinstance(base, fx.Node) else None
        if isinstance(structure, tuple):  # picking one result of a call that returns several
            index = _place(ctx.value(base), key)
            if index is not None:
                return structure[index]
            raise Untraceable(f"it picks {key!r} out of several results")
        if node.target.__name__ == "getattr":
            raise Untraceable(f"it reads the attribute {key!r} of a tensor")
    draft = translate(ctx, node)
    ports = [p for arg in draft.inputs for p in flat_ports(ctx, sources, arg)]
    if draft.type == PASS:
        return ports[0]
    made = builder.add(draft.type, builder.names.fresh(node.name), params=draft.params)
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    return structure_of(ctx.value(node), made.id, [0])


def _output_ports(builder: GraphBuilder, ctx: Context, sources: dict, result: Any) -> list[Port]:
    """The returned tensors, depth first: ``((a, b), c)`` is three outputs, a, b and c (a
    caller's ``(x, y), z = block(h)`` picks them by the same numbering)."""
    value = ctx.value(result)
    # a None beside the tensors (``return out, None``: attention weights not asked for) is no
    # output: a caller that picks a tensor by its place picks it by the same numbering
    returned = [item for item in leaves(value) if item is not None]
    if not returned or not all(isinstance(item, TensorInfo) for item in returned):
        raise Untraceable("its forward returns something other than tensors, or tuples and "
                          "lists of tensors")
    builder.draft.nested_output = any(isinstance(item, (tuple, list)) for item in
                                      (value if isinstance(value, (tuple, list)) else ()))
    ports = flat_ports(ctx, sources, result)
    if len(ports) != len(returned):
        raise Untraceable("its forward returns a tensor that no node of its graph made")
    return ports


