"""nn.Sequential chains as drafts: positional layers make a ``sequential`` graph, named ones a
class whose attributes keep those names. A chain that hands tuples from layer to layer can be
a class (its calls pass each tensor), never an nn.Sequential (which passes one value):
positional layers are then drawn by their holder, as a module list called in turn (body.py).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from codegen.importer.draft import DraftNode, GraphDraft, Names
from codegen.importer.drafting import GraphBuilder, Port, leaves, structure_of
from codegen.importer.import_errors import Untraceable
from codegen.importer.values import Batch, TensorInfo
from codegen.importer.walk import Visit
from graph_schema.document import name_problem


def sequential_body(module: nn.Module, visit: Visit | None, batch: Batch,
                    warnings: list[str]) -> GraphDraft:
    """A chain: positional children make a ``sequential`` graph; named ones (an OrderedDict)
    a plain class whose attributes keep those names, which may hand tuples along."""
    names = list(module._modules)
    by_position = positional(module)
    if not by_position and any(name_problem(n) for n in names):
        raise Untraceable("it holds an nn.Sequential whose children are named neither by "
                          "position nor by valid attribute names")
    if by_position and visit is not None and passes_tuples(visit):
        raise Untraceable("it holds an nn.Sequential that passes tuples from layer to layer, "
                          "which generated code cannot write as an nn.Sequential")
    builder = GraphBuilder(module, batch, warnings, "sequential" if by_position else "class")
    if by_position:
        builder.names = Names()
    if visit is not None and visit.inputs:
        second = visit.inputs_b[0] if visit.inputs_b else None
        ports = _entry_ports(builder, visit.inputs[0], second)
    else:
        ports = [Port(builder.add("io.Input", "x").id, 0)]
    for index, (name, child) in enumerate(module._modules.items()):
        step = visit.steps[index] if visit is not None and visit.steps else None
        label = builder.names.fresh(type(child).__name__.lower()) if by_position else name
        made = builder.module_node(child, label, step)
        ports = _chain_step(builder, ports, made, step)
    builder.output_nodes(ports)
    return builder.draft


def positional(sequential: nn.Module) -> bool:
    return list(sequential._modules) == [str(i) for i in range(len(sequential._modules))]


def passes_tuples(visit: Visit) -> bool:
    """Whether anything but one tensor goes into, between or out of a sequential's layers."""
    values = [*visit.inputs[:1], *(step.output for step in visit.steps)]
    return any(not isinstance(value, TensorInfo) for value in values)


def _entry_ports(builder: GraphBuilder, value: Any, second: Any) -> list[Port]:
    """Inputs for what enters a chain: ``x``, or ``x_1, x_2`` for the tensors of a tuple (as
    fx names the items of a tuple argument)."""
    tensors = [v for v in leaves(value) if isinstance(v, TensorInfo)]
    others = leaves(second) if second is not None else []
    if isinstance(value, TensorInfo):
        return [builder.input_node("x", value, second)]
    if not tensors:
        return [Port(builder.add("io.Input", "x").id, 0)]
    return [builder.input_node(f"x_{index + 1}", leaf, others[index] if index < len(others)
                               else None) for index, leaf in enumerate(tensors)]


def _chain_step(builder: GraphBuilder, ports: list[Port], made: DraftNode,
                step: Visit | None) -> list[Port]:
    """Wire ``ports`` into ``made``; its results, for the next step."""
    for index, port in enumerate(ports):
        builder.link(port, made.id, index)
    if step is None or isinstance(step.output, TensorInfo):
        return [Port(made.id, 0)]
    return [port for port in leaves(structure_of(step.output, made.id, [0])) if port is not None]
