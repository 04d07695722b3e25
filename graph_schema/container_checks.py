"""Checks for the containers a graph can declare: ``nn.ModuleList`` groups and the
``sequential`` kind. Both decide the names weights are saved under, so a mistake here would
give code whose ``state_dict`` no longer matches the model it came from."""

from __future__ import annotations

from graph_schema.catalog import get_spec
from graph_schema.diagnostics import Diagnostic, graph_diagnostic, node_diagnostic, scope_of
from graph_schema.document import Network, Node, name_problem

IO_TYPES = ("io.Input", "io.Output")


def holds_module(node: Node) -> bool:
    """Whether the node is built in ``__init__`` as a module of its own (a layer or a block)
    rather than written inline in ``forward`` (a tensor op)."""
    if node.block_name:
        return True
    spec = get_spec(node.type)
    return spec is not None and spec.torch_class is not None





def check_module_lists(network: Network) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    nodes = network.node_map()
    node_names = {node.name for node in network.nodes}
    owner: dict[str, str] = {}
    list_names: set[str] = set()
    for group in network.module_lists:
        label = f"module list '{group.name}'"
        problem = name_problem(group.name)
        if problem:
            found.append(graph_diagnostic(network, "bad-module-list",
                                     f"{label} cannot be an attribute name: {problem}"))
        elif group.name in node_names or group.name in list_names:
            found.append(graph_diagnostic(network, "bad-module-list",
                                     f"{label}: the name is already used by a node or "
                                     f"another module list"))
        list_names.add(group.name)
        for node_id in group.nodes:
            node = nodes.get(node_id)
            if node is None:
                found.append(graph_diagnostic(network, "bad-module-list",
                                         f"{label} lists node id {node_id!r}, which does not "
                                         f"exist"))
            elif node_id in owner:
                found.append(node_diagnostic(network, node, "bad-module-list",
                                        f"is listed in module list '{owner[node_id]}' and in "
                                        f"'{group.name}'; a module lives in one list"))
            elif not holds_module(node):
                found.append(node_diagnostic(network, node, "bad-module-list",
                                        f"cannot be in {label}: {node.type} is written inline "
                                        f"in forward(), it is not a module"))
            owner.setdefault(node_id, group.name)
    return found


def check_sequential(network: Network, counts: dict | None = None) -> list[Diagnostic]:
    """A sequential graph is input -> layer -> ... -> layer -> output, nothing else.

    ``counts[node_id]``: how many outputs inference gave each node, where it knows."""
    if network.kind != "sequential":
        return []
    what = f"a sequential {scope_of(network)}"
    found: list[Diagnostic] = []
    inputs, outputs = network.inputs(), network.outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        found.append(graph_diagnostic(network, "sequential-not-chain",
                                 f"{what} has exactly one io.Input and one io.Output "
                                 f"(found {len(inputs)} and {len(outputs)})"))
    if network.module_lists:
        found.append(graph_diagnostic(network, "sequential-not-chain",
                                 f"{what} cannot hold module lists"))
    for node in network.nodes:
        if node.type in IO_TYPES:
            continue
        if not holds_module(node):
            found.append(node_diagnostic(network, node, "sequential-not-chain",
                                    f"cannot be in {what}: {node.type} is a tensor op, and "
                                    f"nn.Sequential holds only layers"))
        elif not _single_in_out(node, (counts or {}).get(node.id)):
            found.append(node_diagnostic(network, node, "sequential-not-chain",
                                    f"cannot be in {what}: nn.Sequential passes one tensor "
                                    f"from layer to layer, and {node.type} takes or returns "
                                    f"more than one"))
    if not found and inputs and outputs:
        found += _chain_problems(network, inputs[0], outputs[0], what)
    return found


def _single_in_out(node: Node, count: int | None) -> bool:
    if node.block_name:
        return True  # the block's own ports are checked with its placement's edges
    spec = get_spec(node.type)
    if count is None:  # not inferred: only layers whose extra outputs are opt-in pass
        count = 1 if len(spec.outputs) == 1 or "return_indices" in spec.param_map else 2
    return (spec.returns == "auto" and count == 1 and spec.min_inputs <= 1
            and spec.forward_inputs == "args" and not spec.forward_params)


def _chain_problems(network: Network, first: Node, last: Node, what: str) -> list[Diagnostic]:
    following: dict[str, list] = {}
    preceding: dict[str, list] = {}
    for edge in network.edges:
        following.setdefault(edge.source, []).append(edge)
        preceding.setdefault(edge.target, []).append(edge)
    nodes = network.node_map()
    seen = {first.id}
    current = first
    while current.id != last.id:
        after = following.get(current.id, [])
        if len(after) != 1 or after[0].source_port != 0 or after[0].target_port != 0 \
                or len(preceding.get(after[0].target, [])) != 1:
            return [node_diagnostic(network, current, "sequential-not-chain",
                               f"{what} must be one unbranched chain from its input to its "
                               f"output, but the chain splits or stops here")]
        current = nodes.get(after[0].target)
        if current is None:
            return []  # a dangling edge, reported on its own
        if current.id in seen:
            break
        seen.add(current.id)
    stray = [node for node in network.nodes if node.id not in seen]
    if stray:
        return [node_diagnostic(network, stray[0], "sequential-not-chain",
                           f"is not on the chain from input to output of {what}")]
    return []
