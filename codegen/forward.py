"""The body of forward(): one line per node, top to bottom, with readable variable names.

A value that only the very next line uses flows through one running variable (``x``), the
way people write chains by hand. A value needed later (a residual shortcut, a branch) gets
the name of the node that made it, so ``identity`` or ``skip`` survive until they are used.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from codegen.containers import ListPlan
from codegen.expressions import module_call, op_expression
from codegen.kept_results import call_target
from codegen.pyformat import LINE_LENGTH, statement
from graph_schema.dims import format_shape
from graph_schema.document import Network
from graph_schema.inference import Inference
from graph_schema.specs import spec_for

RUNNING_CANDIDATES = ("x", "h", "out", "y", "z", "hidden", "features")
INDENT = "        "
TENSOR_TYPES = ("attr.Parameter", "attr.Buffer")


@dataclass
class ForwardBody:
    arguments: list[str] = field(default_factory=list)  # forward's parameters (the inputs)
    lines: list[str] = field(default_factory=list)  # at the method body's indentation
    outputs: int = 1
    uses_functional: bool = False


class _Namer:
    def __init__(self, network: Network, inference: Inference, emitted: list[str]):
        self.inference = inference
        self.node_names = {node.name for node in network.nodes}
        self.taken: set[str] = {"self"}  # a layer may be named self (self.self), a local not
        self.running = self._running_name(network, inference, emitted[:1])
        self.position = {node_id: i for i, node_id in enumerate(emitted)}
        self.names: dict[tuple[str, int], str] = {}

    def _running_name(self, network: Network, inference: Inference, first: list[str]) -> str:
        for candidate in RUNNING_CANDIDATES:
            owner = next((n for n in network.nodes if n.name == candidate), None)
            if owner is None:
                return candidate
            # An input called x may be overwritten by the first line when that line is the
            # only one that reads it.
            users = [e for t in inference.outgoing[owner.id] for e in inference.incoming[t]
                     if e.source == owner.id]
            if owner.type == "io.Input" and len(users) == 1 and \
                    list(inference.outgoing[owner.id]) == first:
                return candidate
        names, name, counter = {n.name for n in network.nodes}, "value", 2
        while name in names:  # every candidate is a node's name: never clobber an input
            name = f"value_{counter}"
            counter += 1
        return name

    def fresh(self, base: str, own: str | None = None) -> str:
        """``base``, or ``base_2`` ... when that is taken: by another variable, the running
        one, or another node's name (an input's parameter, or the variable it will want)."""
        name, counter = base, 2
        while name in self.taken or name == self.running or \
                (name in self.node_names and name != own):
            name = f"{base}_{counter}"
            counter += 1
        self.taken.add(name)
        return name

    def consumers(self, node_id: str, port: int) -> list[str]:
        return [e_target for e_target, e in self._edges_from(node_id) if e == port]

    def _edges_from(self, node_id: str):
        for target in self.inference.outgoing[node_id]:
            for edge in self.inference.incoming[target]:
                if edge.source == node_id:
                    yield target, edge.source_port

    def name_outputs(self, node, port_names: list[str]) -> list[str]:
        """A variable per output port: the running one, a lasting one, or ``_`` if unused."""
        here = self.position[node.id]
        result = []
        for port, port_name in enumerate(port_names):
            users = self.consumers(node.id, port)
            if not users:
                result.append("_")
            elif len(users) == 1 and self.position.get(users[0]) == here + 1 \
                    and self.running not in result:
                result.append(self.running)
            else:
                base = node.name if len(port_names) == 1 else f"{node.name}_{port_name}"
                result.append(self.fresh(base, own=node.name))
            self.names[(node.id, port)] = result[-1]
        return result


def build_forward(network: Network, inference: Inference, values_of: dict[str, dict],
                  access: dict[str, str] | None = None,
                  lists: list[ListPlan] = ()) -> ForwardBody:
    """``values_of[node_id]``: the params as the code writes them (some bound to arguments);
    ``access[node_id]``: how the node's module is reached (``self.layers[0]``); ``lists``:
    the module lists, whose chained ones are written as one loop."""
    outputs = network.outputs()
    emitted = [n for n in inference.order if inference.nodes[n].type not in ("io.Output",)]
    body = ForwardBody(outputs=len(outputs))
    computing = [n for n in emitted if inference.nodes[n].type != "io.Input"]
    # Held tensors and uncalled modules write no line: "the next line" skips them.
    writing = [n for n in computing if inference.nodes[n].called
               and inference.nodes[n].type not in TENSOR_TYPES]
    namer = _Namer(network, inference, writing + [o.id for o in outputs])
    access = access or {}
    loops = {plan.members[0]: plan for plan in lists if plan.loop}
    looped = {node_id for plan in loops.values() for node_id in plan.members[1:]}
    for node in network.inputs():
        body.arguments.append(node.name)
        namer.names[(node.id, 0)] = node.name
    for node_id in computing:
        node = inference.nodes[node_id]
        if node_id in looped or not node.called:
            continue
        if node.type in TENSOR_TYPES:
            namer.names[(node_id, 0)] = f"self.{node.name}"  # read where it is used
            continue
        if node_id in loops:
            body.lines += _loop_lines(inference, namer, loops[node_id])
            continue
        body.lines += _node_lines(inference, namer, node_id, values_of, access, body)
    returned = [_output_value(inference, namer, node.id) for node in outputs]
    lines = statement(INDENT, "return ", ", ".join(returned))
    if len(returned) > 1 and len(lines[-1]) > LINE_LENGTH:
        # ruff puts a tuple too long for one line one item a line, with a trailing comma.
        lines = [f"{INDENT}return (", *(f"{INDENT}    {name}," for name in returned),
                 f"{INDENT})"]
    body.lines += lines
    return body


def _node_lines(inference: Inference, namer: _Namer, node_id: str, values_of: dict,
                access: dict[str, str], body: ForwardBody) -> list[str]:
    node = inference.nodes[node_id]
    state = inference.states[node_id]
    spec = spec_for(node.type, inference.project)
    inputs = _input_names(inference, namer, node_id)
    port_names = _port_names(spec, state.outputs)
    targets = namer.name_outputs(node, port_names)
    params = values_of.get(node_id, state.params)
    if spec.call is not None:
        expr = op_expression(spec, params, inputs, state.inputs)
        body.uses_functional |= spec.call.name.startswith("F.")
    else:
        expr = module_call(node.name, spec, params, inputs)
        expr = replace(expr, func=access.get(node.reuses or node_id, expr.func))
    comment = "-> " + ", ".join(format_shape(s) for s in state.outputs)
    # A kept class may return its tensors inside a tuple with other values: (x, None).
    kept = call_target(inference.project, node.type, targets)
    prefix = (kept or _unpack(spec, targets)) + " = "
    return statement(INDENT, prefix, expr, comment)


def _loop_lines(inference: Inference, namer: _Namer, plan: ListPlan) -> list[str]:
    """``for layer in self.layers: x = layer(x)``, the value entering the loop first copied
    into the loop's variable when the two differ."""
    first, last = plan.members[0], plan.members[-1]
    (entering,) = _input_names(inference, namer, first)
    (target,) = namer.name_outputs(inference.nodes[last], ["output"])
    variable = namer.fresh("layer")
    lines = [] if entering == target else statement(INDENT, f"{target} = ", entering)
    shapes = inference.states[last].outputs
    lines.append(f"{INDENT}for {variable} in self.{plan.name}:")
    lines += statement(INDENT + "    ", f"{target} = ", f"{variable}({target})",
                       "-> " + ", ".join(format_shape(s) for s in shapes))
    return lines


def _input_names(inference: Inference, namer: _Namer, node_id: str) -> list[str | None]:
    names: dict[int, str] = {}
    for edge in inference.incoming[node_id]:
        names[edge.port] = namer.names[(edge.source, edge.source_port)]
    count = max(names) + 1 if names else 0
    return [names.get(port) for port in range(count)]


def _output_value(inference: Inference, namer: _Namer, node_id: str) -> str:
    (edge,) = inference.incoming[node_id]
    return namer.names[(edge.source, edge.source_port)]


def _port_names(spec, outputs) -> list[str]:
    names = list(spec.outputs)
    while len(names) < len(outputs):
        names.append(f"{names[0] if names else 'out'}{len(names)}")
    return names[:len(outputs)]


def _unpack(spec, targets: list[str]) -> str:
    """The assignment target, shaped like what the torch call returns."""
    if spec.returns == "nested_state" and len(targets) == 3:
        return f"{targets[0]}, ({targets[1]}, {targets[2]})"
    if spec.returns == "pair" and len(targets) == 1:
        return f"{targets[0]}, _"
    if spec.returns == "sequence" and len(targets) == 1:
        return f"({targets[0]},)"  # x.split(...) of one piece is still a tuple
    return ", ".join(targets)
