"""The checks of one graph: a network, or a block's body (on its own, or under the shapes a
placement gives it). ``graph_schema.session`` decides which check a graph gets; validate and the
app both go through it."""

from __future__ import annotations

import networkx as nx

from graph_schema.container_checks import check_module_lists, check_sequential
from graph_schema.diagnostics import Diagnostic, graph_diagnostic, node_diagnostic
from graph_schema.document import Block, Network, Node, Project, name_problem
from graph_schema.inference import Inference
from graph_schema.lints import lint_network
from graph_schema.structure import check_kept, check_opaque, check_reuse_and_calls, check_ties

# Problems a block body shows on its own, before any instance gives its inputs a shape.
_STRUCTURAL = {"unknown-type", "unknown-param", "bad-param", "cycle", "port-taken",
               "no-such-port", "unconnected-input"}


def check_network(project: Project, network: Network, inference: Inference) -> list[Diagnostic]:
    found = _name_problems(network) + _dangling_edges(network, inference)
    found += _structure_problems(network, inference)
    found += inference.diagnostics()
    found += _reachability(network, inference)
    found += lint_network(project, network, inference)
    return found


def check_block(project: Project, block: Block) -> list[Diagnostic]:
    inference = Inference(block, project, arguments=dict(block.arguments))
    shaped = all("shape" in node.params for node in block.inputs())
    inner = [d for d in inference.diagnostics() if shaped or d.code in _STRUCTURAL]
    if block.opaque is not None:  # its outputs come from the kept source, not from wires
        inner = [d for d in inner if d.code != "unconnected-input"]
    found = _name_problems(block) + _dangling_edges(block, inference) + inner
    found += _structure_problems(block, inference)
    if (not block.inputs() or not block.outputs()) and block.opaque is None:
        found.append(graph_diagnostic(block, "block-ports",
                                   "a block needs at least one io.Input and one io.Output"))
    if shaped:
        found += lint_network(project, block, inference)
    return found


def _structure_problems(network: Network, inference: Inference) -> list[Diagnostic]:
    """Containers (module lists, the sequential kind) and the other import additions."""
    outputs = {node_id: len(state.outputs) for node_id, state in inference.states.items()
               if state.outputs is not None}
    found = check_module_lists(network) + check_sequential(network, outputs)
    found += check_reuse_and_calls(network) + check_ties(network)
    found += check_kept(network, inference.project)
    if isinstance(network, Block):
        found += check_opaque(network)
    return found

def _name_problems(network: Network) -> list[Diagnostic]:
    found = []
    owners: dict[str, Node] = {}
    for node in network.nodes:
        problem = name_problem(node.name, forward_parameter=node.type.startswith("io."))
        if problem:
            found.append(node_diagnostic(network, node, "bad-name",
                               f"cannot be used as a name in generated code: {problem}"))
        elif node.name in owners:
            found.append(node_diagnostic(network, node, "duplicate-name",
                               f"the name '{node.name}' is already used by "
                               f"{owners[node.name].type} (id {owners[node.name].id}); "
                               f"names must be unique within a network"))
        else:
            owners[node.name] = node
    return found


def _dangling_edges(network: Network, inference: Inference) -> list[Diagnostic]:
    found = []
    nodes = inference.nodes
    for edge in inference.dangling:
        missing = [end for end in (edge.source, edge.target) if end not in nodes]
        message = (f"a connection {edge.source}:{edge.source_port} -> "
                   f"{edge.target}:{edge.target_port} refers to node id "
                   f"{' and '.join(repr(m) for m in missing)}, which does not exist")
        present = edge.target if edge.target in nodes else edge.source
        if present in nodes:
            found.append(node_diagnostic(network, nodes[present], "edge-dangling", message))
        else:
            found.append(graph_diagnostic(network, "edge-dangling", message))
    return found


def _reachability(network: Network, inference: Inference) -> list[Diagnostic]:
    inputs, outputs = network.inputs(), network.outputs()
    if not inputs:
        return [graph_diagnostic(network, "no-input", "has no io.Input node: add one and give it "
                                                   "a shape such as [\"N\", 3, 32, 32]")]
    if not outputs:
        return [graph_diagnostic(network, "no-output", "has no io.Output node: connect the last "
                                                    "layer to an output")]
    graph = inference.graph
    fed = set().union(*(nx.descendants(graph, n.id) | {n.id} for n in inputs))
    used = set().union(*(nx.ancestors(graph, n.id) | {n.id} for n in outputs))
    found = []
    for node in outputs:
        if node.id not in fed and not inference.states[node.id].diagnostics:
            found.append(node_diagnostic(network, node, "unreachable-output",
                               "no input reaches this output"))
    for node in network.nodes:
        if node.id in used or node.id in inference.cycle_nodes:
            continue
        if node.type == "io.Input":
            found.append(node_diagnostic(network, node, "unused-input",
                               "this input does not reach any output", "warning"))
        elif node.id in fed:
            found.append(node_diagnostic(network, node, "dead-node",
                               "its result does not reach any output", "warning"))
    return found
