"""What the inspector shows about one node, read from the document (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builder.gui.panels.param_text import argument_name
from graph_schema.catalog.spec import LayerSpec
from graph_schema.dims import format_shape
from graph_schema.document import Network, Node, name_problem
from graph_schema.inference import NodeState


@dataclass(frozen=True)
class ParamValue:
    """What a parameter's field shows."""

    value: Any  # the user's value, or the resolved one when the user set none
    origin: str  # "set", "inferred", "argument", "default" or "unknown" (inferable, not yet)
    argument: str | None = None  # the network argument the value is bound to
    waiting_for: str = ""  # "unknown": what inference still needs ("the input is connected")

    @property
    def hint(self) -> str:
        return {
            "inferred": "inferred from upstream",
            "argument": f"from argument '{self.argument}'",
            "unknown": f"inferred once {self.waiting_for or 'the input is connected'}",
        }.get(self.origin, "")

    @property
    def derived(self) -> bool:
        return self.origin in ("inferred", "argument")


def param_values(spec: LayerSpec, node: Node, state: NodeState | None,
                 connected: bool = False) -> dict[str, ParamValue]:
    """Each parameter's value and how it came about (set, inferred, argument, default).
    ``connected``: every input the layer needs has an edge into it."""
    resolved = dict(spec.defaults)
    if state is not None:
        resolved.update(state.params)
    inferred = state.inferred if state is not None else frozenset()
    waiting = inference_waits_for(spec, state, resolved, connected)
    shown: dict[str, ParamValue] = {}
    for param in spec.params:
        name = param.name
        raw = node.params.get(name)
        argument = argument_name(raw)
        if argument is not None:
            shown[name] = ParamValue(resolved.get(name), "argument", argument)
        elif name in node.params:
            shown[name] = ParamValue(raw, "set")
        elif name in inferred:
            shown[name] = ParamValue(resolved[name], "inferred")
        elif param.inferable and resolved.get(name) is None:
            shown[name] = ParamValue(None, "unknown", waiting_for=waiting)
        else:
            shown[name] = ParamValue(resolved.get(name), "default")
    return shown


def inference_waits_for(spec: LayerSpec, state: NodeState | None, resolved: dict,
                        connected: bool) -> str:
    """Why inferable parameters are still unknown, as the end of "inferred once ...": the
    input, a parameter only the user can give (inference stops at it), or upstream."""
    if not connected:
        return "the input is connected"
    unset = [p.name for p in spec.params
             if p.required and not p.inferable and resolved.get(p.name) is None]
    if unset:
        return f"{' and '.join(unset)} {'is' if len(unset) == 1 else 'are'} set"
    if state is not None and any(shape is None for shape in state.inputs[:spec.min_inputs]):
        return "the input's shape is known (see the problems upstream)"
    return "the problems below are fixed"


def name_refusal(graph: Network, node_id: str, name: str) -> str | None:
    """Why a node cannot be called ``name`` (as the controller would refuse it), or None."""
    problem = name_problem(name)
    if problem is None and any(n.name == name and n.id != node_id for n in graph.nodes):
        problem = f"the name {name!r} is already used in this network"
    return problem


def shape_lines(spec: LayerSpec | None, state: NodeState | None) -> tuple[list[str], list[str]]:
    """("input: (N, 1, 28, 28)", ...) and ("(N, 6, 24, 24)", ...): '?' where unknown."""
    if state is None:
        return [], []
    inputs = []
    for index, shape in enumerate(state.inputs):
        port = spec.port_name(index) if spec is not None else f"input {index}"
        inputs.append(f"{port}: {format_shape(shape) if shape is not None else '?'}")
    if state.outputs is None:
        outputs = ["? (unknown until the problems above are fixed)"] if state.diagnostics \
            else ["?"]
    else:
        names = spec.outputs if spec is not None else ()
        outputs = [f"{names[i]}: {format_shape(s)}" if len(state.outputs) > 1 and i < len(names)
                   else format_shape(s) for i, s in enumerate(state.outputs)]
    return inputs, outputs
