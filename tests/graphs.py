"""Small helpers to build networks in tests without writing JSON by hand."""

from __future__ import annotations

from graph_schema.document import Block, Edge, Network, Node, Project


def node(node_id: str, type_name: str, name: str | None = None, **params) -> Node:
    return Node(id=node_id, type=type_name, name=name or node_id, params=params)


def edges(*pairs) -> list[Edge]:
    """("a", "b") or ("a", "b", source_port, target_port)."""
    result = []
    for pair in pairs:
        source, target, *ports = pair
        sp, tp = (ports + [0, 0])[:2]
        result.append(Edge(source=source, target=target, source_port=sp, target_port=tp))
    return result


def chain_edges(*ids) -> list[Edge]:
    return edges(*zip(ids, ids[1:]))


def project(nodes, edge_list, blocks=(), name="main", **kw) -> Project:
    network = Network(name=name, nodes=list(nodes), edges=list(edge_list))
    return Project(networks=[network], blocks=list(blocks), **kw)


def block(name, nodes, edge_list, **arguments) -> Block:
    return Block(name=name, nodes=list(nodes), edges=list(edge_list), arguments=arguments)
