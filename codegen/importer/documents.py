"""Groups of instances -> the project's blocks and network (document nodes, edges, layout)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from codegen.classes import class_name_for
from codegen.importer.draft import DraftNode, GraphDraft
from codegen.importer.groups import Group, Instance, finish
from codegen.importer.import_errors import ModelImportError
from codegen.importer.keep import class_source, needed_names
from graph_schema.document import (
    Block,
    Edge,
    ModuleList,
    Network,
    Node,
    OpaqueCall,
    OpaqueClass,
    Tie,
    block_type,
)
from graph_schema.layout import layout_network
from graph_schema.trust import signed


class Documents:
    def __init__(self, groups: dict[tuple, Group], kept: dict[Any, str],
                 required: dict[Any, list[Any]]):
        self.groups = groups
        self.kept = kept
        self.required = required
        self.blocks: list[Block] = []
        self._names: set[str] = set()
        self._class_blocks: dict[Any, str] = {}  # kept class or helper -> its block

    # -- names -------------------------------------------------------------------------------
    def name_blocks(self) -> None:
        """Kept classes and helpers keep their names (their sources refer to each other by
        them); the other blocks take free names: ``BasicBlock``, ``BasicBlock_2``."""
        for cls in self.kept:
            if cls.__name__ in self._names:
                raise ModelImportError(f"two classes or functions kept as source are both "
                                       f"named {cls.__name__}; generated code cannot hold "
                                       f"both")
            self._names.add(cls.__name__)
            self._class_blocks[cls] = cls.__name__
        classes = {class_name_for(name) for name in self._names}
        # The model's own classes first: a sequential attribute named double_conv must not
        # take the class name DoubleConv from the class of that name.
        ordered = sorted(self.groups.values(), key=lambda g: g.kind == "sequential")
        for group in ordered:
            if group.kind == "opaque":
                group.name = group.wanted_name
                continue
            wanted = group.wanted_name
            if group.kind == "sequential" and class_name_for(wanted) in classes:
                wanted = f"{wanted}_layers"
            name, counter = wanted, 2
            while name in self._names or class_name_for(name) in classes:
                name = f"{wanted}_{counter}"
                counter += 1
            self._names.add(name)
            classes.add(class_name_for(name))
            group.name = name

    # -- settling and writing groups ---------------------------------------------------------------
    def settle(self, group: Group) -> None:
        if group.done:
            return
        for instance in group.instances:
            for child in instance.children.values():
                self.settle(child.group)
        finish(group, lambda instance: {node_id: child.args for node_id, child in
                                        instance.children.items()})
        self.blocks.append(self._block(group))

    def network(self, root: Instance, name: str) -> Network:
        self.settle(root.group)
        self.blocks = [b for b in self.blocks if b.name != root.group.name]
        graph = self._graph(root.group, Network, name)
        if root.group.instances[1:]:
            raise ModelImportError("the model's own class is also used inside it")
        return graph

    def required_blocks(self) -> None:
        """Classes only other kept sources build: kept, with nothing to place."""
        placed = {b.name for b in self.blocks}
        for cls, name in self._class_blocks.items():
            if name not in placed:
                self.blocks.append(self._opaque_block(cls, name, {}, []))

    def _block(self, group: Group) -> Block:
        if group.kind == "opaque":
            first = group.instances[0]
            cls = type(first.extra["module"])
            calls = [_opaque_call(i) for i in group.instances]
            return self._opaque_block(cls, group.name, group.arguments, calls,
                                      first.extra["call"])
        return self._graph(group, Block, group.name)

    def _opaque_block(self, cls: Any, name: str, arguments: dict, calls: list,
                      first_call: dict | None = None) -> Block:
        imports = needed_names(cls).imports
        source = class_source(cls)
        origin = f"{cls.__module__}.{cls.__qualname__}"
        # Signed here: this source was read from the live class the user chose to import,
        # so it is what they run already (graph_schema/trust.py).
        opaque = signed(OpaqueClass(class_name=cls.__name__, source=source, origin=origin,
                                    reason=self.kept.get(cls, ""), imports=imports,
                                    requires=[c.__name__ for c in self.required.get(cls, [])],
                                    calls=calls))
        first_call = first_call or {"inputs": [], "outputs": [], "dtypes": [], "names": []}
        nodes, edges = [], []
        for index, shape in enumerate(first_call["inputs"]):
            params: dict[str, Any] = {"shape": shape}
            if first_call["dtypes"][index] != "float32":
                params["dtype"] = first_call["dtypes"][index]
            nodes.append(Node(id=f"in{index}", type="io.Input",
                              name=_port_name(first_call["names"][index], index), params=params))
        for index in range(len(first_call["outputs"])):
            nodes.append(Node(id=f"out{index}", type="io.Output",
                              name="output" if len(first_call["outputs"]) == 1
                              else f"output{index}"))
        block = Block(name=name, nodes=nodes, edges=edges, arguments=arguments, opaque=opaque)
        return block

    def _graph(self, group: Group, model: type, name: str) -> Network:
        first = group.instances[0]
        draft = first.draft
        names = {node.id: node.name for node in draft.nodes}
        nodes = [self._node(group, first, node, draft) for node in draft.nodes]
        edges = [Edge(source=a, source_port=p, target=b, target_port=q)
                 for a, p, b, q in draft.edges]
        lists = [ModuleList(name=k, nodes=v) for k, v in draft.module_lists.items()]
        tied = [Tie(target=t, source=s) for t, s in draft.tied]
        del names
        graph = model(name=name, kind=draft.kind, nodes=nodes, edges=edges,
                      arguments=dict(group.arguments), module_lists=lists, tied=tied,
                      notes=draft.notes)
        return graph

    def _node(self, group: Group, instance: Instance, node: DraftNode,
              draft: GraphDraft) -> Node:
        fields: dict[str, Any] = {"id": node.id, "name": node.name, "called": node.called}
        if node.reuses:
            first = draft.node(node.reuses)
            fields["type"] = self._type_of(instance, first)
            fields["reuses"] = node.reuses
            return Node(**fields)
        fields["type"] = self._type_of(instance, node)
        if node.type == "io.Input":
            params = {"shape": node.input_shape} if node.input_shape is not None else {}
            if node.input_dtype != "float32":
                params["dtype"] = node.input_dtype
            fields["params"] = params
        elif node.id in instance.children:
            fields["params"] = self._placement(group, instance, node)
        else:
            fields["params"] = {k: {"arg": group.bound[(node.name, k)]}
                                if (node.name, k) in group.bound else v
                                for k, v in node.params.items()}
        return Node(**fields)

    def _type_of(self, instance: Instance, node: DraftNode) -> str:
        if node.id in instance.children:
            return block_type(instance.children[node.id].group.name)
        return node.type

    def _placement(self, group: Group, instance: Instance, node: DraftNode) -> dict:
        child = instance.children[node.id]
        params = {}
        for argument, value in child.args.items():
            path = (node.name, f"arg:{argument}")
            if path in group.bound:
                params[argument] = {"arg": group.bound[path]}
            elif value != child.group.arguments.get(argument) or \
                    type(value) is not type(child.group.arguments.get(argument)):
                params[argument] = value
        return params


def _opaque_call(instance: Instance) -> OpaqueCall:
    call = instance.extra["call"]
    return OpaqueCall(arguments=dict(instance.args), inputs=call["inputs"],
                      outputs=call["outputs"], parameters=call["parameters"],
                      returns=call.get("returns", ""))


def _port_name(name: str, index: int) -> str:
    from graph_schema.document import name_problem

    return name if not name_problem(name) else f"input{index}"


@contextmanager
def lay_out(graphs: list[Network]) -> Iterator[None]:
    """Positions for every graph, from graphviz dot when it is installed (one process per
    graph, run side by side, while the caller goes on) or the built-in layered layout."""
    pool = ThreadPoolExecutor(max_workers=min(8, len(graphs) or 1))
    try:
        futures = [pool.submit(_positions, graph) for graph in graphs]
        yield
        for graph, future in zip(graphs, futures):
            positions = future.result()
            for node in graph.nodes:
                if node.id in positions:
                    node.position = positions[node.id]
    finally:
        pool.shutdown(wait=True)


def _positions(graph: Network) -> dict:
    if not graph.nodes:
        return {}
    # A plain chain has one good drawing, a column: no need to start graphviz for it.
    engine = "builtin" if _is_chain(graph) else "auto"
    return layout_network(graph, engine=engine).positions


def _is_chain(graph: Network) -> bool:
    into: dict[str, int] = {}
    out_of: dict[str, int] = {}
    for edge in graph.edges:
        into[edge.target] = into.get(edge.target, 0) + 1
        out_of[edge.source] = out_of.get(edge.source, 0) + 1
    return all(count <= 1 for count in [*into.values(), *out_of.values()])


