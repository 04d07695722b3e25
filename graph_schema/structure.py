"""Checks for what import adds to a graph: shared modules (``reuses``), modules never called,
tied weights and opaque blocks; and the parameter count of a block that is never called."""

from __future__ import annotations

from typing import Any

from graph_schema.catalog import ParamError, get_spec
from graph_schema.container_checks import holds_module
from graph_schema.diagnostics import Diagnostic, graph_diagnostic, node_diagnostic
from graph_schema.document import Block, Network, Project
from graph_schema.trust import TrustError, allowed_text, disallowed_imports, is_trusted, read_key

IO_TYPES = ("io.Input", "io.Output")
TENSOR_TYPES = ("attr.Parameter", "attr.Buffer")





def check_reuse_and_calls(network: Network) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    nodes = network.node_map()
    connected = {e.source for e in network.edges} | {e.target for e in network.edges}
    for node in network.nodes:
        if not node.called:
            if node.id in connected:
                found.append(node_diagnostic(network, node, "uncalled-connected",
                                        "is marked as never called, but it is connected; "
                                        "connect it and mark it called, or disconnect it"))
            if node.type in IO_TYPES or not (holds_module(node) or node.type in TENSOR_TYPES):
                found.append(node_diagnostic(network, node, "uncalled-connected",
                                        f"only a layer or block can be kept uncalled, not "
                                        f"{node.type}"))
        if node.reuses is None:
            continue
        target = nodes.get(node.reuses)
        problem = None
        if target is None:
            problem = f"reuses node id {node.reuses!r}, which does not exist"
        elif target.type != node.type:
            problem = f"reuses '{target.name}', which is a {target.type}, not a {node.type}"
        elif target.reuses is not None:
            problem = f"reuses '{target.name}', which itself reuses another node; reuse " \
                      f"the node that builds the module"
        elif not holds_module(target):
            problem = f"reuses '{target.name}', but {target.type} is not a module"
        elif node.params or node.init != "default" or not node.called:
            problem = f"reuses the module of '{target.name}', so it cannot have params, " \
                      f"an init or be uncalled of its own"
        if problem:
            found.append(node_diagnostic(network, node, "bad-reuse", problem))
    return found


def check_ties(network: Network) -> list[Diagnostic]:
    if not network.tied:
        return []
    if network.kind == "sequential":
        return [graph_diagnostic(network, "bad-tie", "a sequential graph cannot tie weights")]
    owners = {node.name for node in network.nodes
              if node.reuses is None and (holds_module(node) or node.type in TENSOR_TYPES)}
    owners |= {group.name for group in network.module_lists}
    found = []
    for tie in network.tied:
        for path in (tie.target, tie.source):
            head = path.split(".")[0]
            if head not in owners:
                found.append(graph_diagnostic(network, "bad-tie",
                                         f"tied weight {path!r}: '{head}' is not a module, "
                                         f"module list or held tensor of this graph"))
        if tie.target == tie.source or "." not in tie.target:
            found.append(graph_diagnostic(network, "bad-tie",
                                     f"tied weight {tie.target!r} must be an attribute of a "
                                     f"module, other than its source"))
    return found


def check_kept(network: Network, project: Project) -> list[Diagnostic]:
    """A network of kind "kept" is its inputs, in order, into one block kept as source, and
    that block's results, in order, out."""
    if network.kind != "kept":
        return []
    if isinstance(network, Block):
        return [graph_diagnostic(network, "bad-kept-network",
                                 "a block cannot be of kind 'kept': only a network is its one "
                                 "kept block")]
    layers = [node for node in network.nodes if node.type not in IO_TYPES]
    block = project.block(layers[0].block_name) if len(layers) == 1 and \
        layers[0].block_name else None
    if block is None or block.opaque is None:
        return [graph_diagnostic(network, "bad-kept-network",
                                 "a network of kind 'kept' holds exactly one node besides its "
                                 "inputs and outputs, a block kept as source")]
    node = layers[0]
    entering = sorted((e.target_port, e.source) for e in network.edges if e.target == node.id)
    leaving = [(e.source, e.source_port) for out in network.outputs() for e in network.edges
               if e.target == out.id]
    if entering != [(port, i.id) for port, i in enumerate(network.inputs())] or \
            leaving != [(node.id, port) for port in range(len(network.outputs()))]:
        return [graph_diagnostic(network, "bad-kept-network",
                                 f"a network of kind 'kept' passes its inputs, in order, to "
                                 f"'{node.name}' and gives back its results, in order")]
    return []


def check_opaque(block: Block) -> list[Diagnostic]:
    opaque = block.opaque
    if opaque is None:
        return []
    found = [_trust_diagnostic(block)]
    stray = [node for node in block.nodes if node.type not in IO_TYPES]
    if stray or block.edges or block.module_lists or block.tied:
        found.append(graph_diagnostic(block, "opaque-source",
                                 "an opaque block has only its io nodes: its body is the kept "
                                 "source"))
    for module in sorted(set(disallowed_imports(opaque))):
        found.append(graph_diagnostic(block, "opaque-import",
                                      f"its kept source imports {module!r}; kept source may "
                                      f"import only {allowed_text()}, trusted or not"))
    return found


def _trust_diagnostic(block: Block) -> Diagnostic:
    """An error for kept source this machine did not sign; a reminder to review it otherwise."""
    opaque = block.opaque
    try:
        trusted = is_trusted(opaque, read_key())
        problem = "it is not signed by this machine's trust key (the file came from " \
                  "elsewhere, or was edited)"
    except TrustError as err:
        trusted, problem = False, str(err)
    if trusted:
        return graph_diagnostic(block, "opaque-source",
                                f"keeps the source of class {opaque.class_name} from the "
                                f"imported model ({opaque.reason or 'torch.fx could not trace it'}"
                                f"); generated code runs it as it is: review it", "warning")
    return graph_diagnostic(block, "untrusted-source",
                            f"keeps the source of class {opaque.class_name}, which is not "
                            f"trusted: {problem}. Review the source, then trust it with "
                            f"`torchcanvas trust FILE` (or Trust in the app), or generate with "
                            f"--trust-kept-source")


def static_parameter_count(project: Project, block: Block, arguments: dict[str, Any]) -> int | None:
    """Parameters of a placement that is never called, counted from the params alone (no
    input, so nothing is inferred): None when one is missing or the block is opaque."""
    if block.opaque is not None:
        return None
    total = 0
    for node in block.nodes:
        if node.type in IO_TYPES or node.reuses:
            continue
        params = {k: arguments.get(v["arg"]) if isinstance(v, dict) and set(v) == {"arg"}
                  else v for k, v in node.params.items()}
        if node.block_name:
            inner = project.block(node.block_name)
            count = None if inner is None else static_parameter_count(
                project, inner, {**inner.arguments, **params})
        else:
            count = _layer_count(node.type, params)
        if count is None:
            return None
        total += count
    return total


def _layer_count(type_name: str, params: dict) -> int | None:
    spec = get_spec(type_name)
    if spec is None:
        return None
    try:
        values = dict(spec.defaults)
        values.update({k: spec.param_map[k].check_value(v) for k, v in params.items()})
        return spec.count_params(values)
    except (KeyError, ParamError, TypeError, ValueError, ArithmeticError):
        return None
