"""What every class's draft is built with: ports, the members a module holds, the builder
that adds nodes and edges, and the plumbing of tensors inside tuples.

Names stay exactly what they are in the module (they make the state_dict keys): a child
``conv1`` is a node ``conv1``, ``layers.0`` is the first member of the module list
``layers``, a parameter ``pos_embed`` is a held-tensor node ``pos_embed``. Children never
called, and tensors never read, still get nodes, so every weight has a home.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import fx, nn

from codegen.importer.context import Context
from codegen.importer.draft import DraftNode, GraphDraft, Ids, Names
from codegen.importer.held import tensor_params
from codegen.importer.import_errors import Untraceable
from codegen.importer.leaves import LeafMismatch, catalog_spec, read_params
from codegen.importer.values import Batch, TensorInfo
from codegen.importer.walk import Visit
from graph_schema.document import name_problem


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


def _drawn_differently(first: Visit | None, again: Visit | None) -> bool:
    """Two calls of one class traced to different graphs (``self.c(x, False)`` and then
    ``self.c(x)``: the trace fixes the flag)."""
    return first is not None and again is not None and first.traced is not None and \
        again.traced is not None and first.traced is not again.traced


def _check_attribute(module: nn.Module, name: str) -> None:
    problem = name_problem(name, forward_parameter=False)
    if problem:
        raise Untraceable(f"its attribute {name!r} cannot be a name in generated code "
                          f"({problem})")


class GraphBuilder:
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
            if _drawn_differently(first.child, visit):
                raise Untraceable(f"it calls '{first.name}' twice with different fixed "
                                  f"arguments, and one module draws as one graph")
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

    def output_nodes(self, ports: list[Port], names: tuple[str, ...] | None = None) -> None:
        """One io.Output per port; named as the forward's result names them, where it is a
        dict or a ModelOutput (``last_hidden_state``, ``pooler_output``)."""
        for index, port in enumerate(ports):
            if names is not None and len(names) == len(ports):
                name = names[index]
            else:
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


# -- tensors inside tuples ---------------------------------------------------------------------
def flat_ports(ctx: Context, sources: dict, arg: Any) -> list[Port]:
    """The tensors in an argument, in order: ``(h, c)`` is two ports, and so is
    ``{"mask": m, "position_ids": p}`` (what a ``**kwargs`` parameter was given, in the order
    it was given, as a traced child's placeholders take them)."""
    if isinstance(arg, fx.Node):
        found = sources.get(arg.name)
        return [p for p in leaves(found) if p is not None] if found is not None else []
    if isinstance(arg, dict):
        arg = list(arg.values())
    if isinstance(arg, (tuple, list)):
        return [p for item in arg for p in flat_ports(ctx, sources, item)]
    return []


def leaves(structure: Any) -> list:
    if isinstance(structure, (tuple, list)):
        return [leaf for item in structure for leaf in leaves(item)]
    return [structure]


def structure_of(value: Any, node_id: str, counter: list[int]) -> Any:
    """Ports for every tensor of a returned value, numbered depth first."""
    if isinstance(value, TensorInfo):
        counter[0] += 1
        return Port(node_id, counter[0] - 1)
    if isinstance(value, (tuple, list)):
        return tuple(structure_of(v, node_id, counter) for v in value)
    return None
