"""The editing session without any window: edits report what they changed, a block's edits
reach its placements, a block's tab takes its shapes from its first placement, and validate
checks every graph as the session does."""

from __future__ import annotations

from graph_schema import validate
from graph_schema.dims import Sym
from graph_schema.document import Edge, Node
from graph_schema.session import Session, block_key, network_key
from tests.graphs import block, chain_edges, node, project

MAIN = network_key("main")
DENSE = block_key("Dense")


def conv_chain() -> Session:
    """x (N, 3, 16, 16) -> conv(8, 3) -> y."""
    return Session(project([node("x", "io.Input", shape=["N", 3, 16, 16]),
                            node("conv", "nn.Conv2d", out_channels=8, kernel_size=3),
                            node("y", "io.Output")], chain_edges("x", "conv", "y")))


def dense(**input_params) -> object:
    """Block 'Dense': x -> Linear(4, 4) -> y."""
    return block("Dense", [node("i", "io.Input", "x", **input_params),
                           node("fc", "nn.Linear", in_features=4, out_features=4),
                           node("o", "io.Output", "y")], chain_edges("i", "fc", "o"))


def placed_twice(width: int, **input_params) -> Session:
    """x (N, width) -> Dense -> Dense -> y."""
    return Session(project([node("x", "io.Input", shape=["N", width]),
                            node("a", "block:Dense"), node("b", "block:Dense"),
                            node("y", "io.Output")], chain_edges("x", "a", "b", "y"),
                           blocks=[dense(**input_params)]))


def test_an_edit_reports_the_nodes_whose_shapes_changed():
    session = conv_chain()
    old, changes = session.update_node(MAIN, "conv", {"params": {"out_channels": 8,
                                                                  "kernel_size": 3,
                                                                  "padding": 1}})
    assert old == {"params": {"out_channels": 8, "kernel_size": 3}}
    assert changes.shapes(MAIN) == {"conv"}  # an output node has no shape of its own
    assert changes.diagnosed() == []
    assert session.analysis(MAIN).inference.output_shape("conv") == (Sym.named("N"), 8, 16, 16)


def test_an_edit_that_breaks_the_graph_reports_its_diagnostics_changed():
    session = conv_chain()
    _, changes = session.update_node(MAIN, "conv", {"params": {
        "out_channels": 8, "kernel_size": 3, "in_channels": 5}})
    assert changes.diagnosed() == [MAIN]
    assert [d.code for d in session.diagnostics()] == ["shape-mismatch"]
    assert session.diagnostics() == validate(session.project)


def test_removing_a_node_does_not_report_it_and_undo_restores_the_index():
    session = conv_chain()
    edge = next(e for e in session.graph(MAIN).edges if e.target == "y")
    index, changes = session.take_edge(MAIN, edge)
    assert "y" in changes.shapes(MAIN) and changes.diagnosed() == [MAIN]
    taken, position, changes = session.take_node(MAIN, "y")
    assert (taken.id, position) == ("y", 2) and "y" not in changes.shapes(MAIN)
    assert session.insert_node(MAIN, taken, position).shapes(MAIN) == {"y"}
    changes = session.insert_edge(MAIN, edge, index)
    assert changes.diagnosed() == [MAIN] and not session.diagnostics()


def test_editing_a_block_re_infers_every_placement_after_the_block_itself():
    session = placed_twice(4)
    assert not session.diagnostics()
    # Its in_features is inferred from now on: the second placement takes the (N, 6).
    _, changes = session.update_node(DENSE, "fc", {"params": {"out_features": 6}})
    assert [c.key for c in changes.graphs] == [DENSE, MAIN]
    assert changes.shapes(DENSE) == {"fc"}
    assert changes.shapes(MAIN) == {"a", "b"}
    assert session.analysis(MAIN).inference.output_shape("b") == (Sym.named("N"), 6)
    assert not session.diagnostics()


def test_a_block_tab_follows_its_first_placement_inputs():
    session = placed_twice(4)
    assert session.analysis(DENSE).block_inputs == {"i": (Sym.named("N"), 4)}
    _, changes = session.update_node(MAIN, "x", {"params": {"shape": ["N", 6]}})
    tab = next(c for c in changes.graphs if c.key == DENSE)
    assert tab.reanalysed and tab.shapes == {"i", "fc", "o"} and tab.diagnostics
    assert session.analysis(DENSE).block_inputs == {"i": (Sym.named("N"), 6)}
    assert any(d.network == "Dense" and d.code == "shape-mismatch"
               for d in session.diagnostics())


def test_renaming_a_block_renames_its_placements_and_reanalyses_everything():
    session = placed_twice(4)
    new_key, changes = session.rename_graph(DENSE, "Wide")
    assert new_key == block_key("Wide")
    assert [n.type for n in session.graph(MAIN).nodes if n.block_name] == ["block:Wide"] * 2
    assert [c.key for c in changes.graphs] == [MAIN, new_key]
    assert all(c.reanalysed and c.diagnostics for c in changes.graphs)
    assert not session.diagnostics()


def test_adding_a_missing_block_resolves_its_placements():
    session = placed_twice(4)
    graph, index, changes = session.take_graph(DENSE)
    assert index == 0 and [c.key for c in changes.graphs] == [MAIN]
    assert {d.code for d in session.diagnostics()} == {"unknown-type"}
    key, changes = session.insert_graph(graph, index)
    assert key == DENSE and changes.shapes(MAIN) >= {"a", "b"}
    assert not session.diagnostics()


def test_a_block_that_fails_only_under_its_placement_is_reported_by_validate_too():
    """Unshaped block inputs: checked on its own the body looked fine; under the (N, 8) its
    placement gives it, its Linear (in_features=4) does not fit."""
    session = placed_twice(8)
    found = validate(session.project)
    assert found == session.diagnostics()
    inside = [d for d in found if d.network == "Dense"]
    assert [(d.scope, d.node_id, d.code) for d in inside] == [("block", "fc", "shape-mismatch")]
    assert [d.code for d in found if d.network == "main"] == ["block-error"]


def test_a_block_that_passes_only_under_its_placement_is_clean_in_validate():
    """The block's own input says (N, 9), which its Linear would not take; every placement
    gives it (N, 4), which it does."""
    session = placed_twice(4, shape=["N", 9])
    assert validate(session.project) == session.diagnostics() == []


def test_a_self_placing_block_is_reported_once_on_the_outermost_placement():
    loop = block("Loop", [node("i", "io.Input", "x"), node("me", "block:Loop", "again"),
                          node("o", "io.Output", "y")], chain_edges("i", "me", "o"))
    session = Session(project([node("x", "io.Input", shape=["N", 4]), node("b", "block:Loop"),
                               node("y", "io.Output")], chain_edges("x", "b", "y"),
                              blocks=[loop]))
    recursion = [d for d in session.diagnostics() if d.code == "block-recursion"]
    assert [(d.network, d.node_id) for d in recursion] == [("main", "b")]


def test_the_session_edits_the_project_it_was_given():
    session = conv_chain()
    session.insert_node(MAIN, Node(id="relu", type="nn.ReLU", name="relu"))
    session.insert_edge(MAIN, Edge(source="conv", target="relu"))
    assert "relu" in {n.id for n in session.project.networks[0].nodes}
    assert session.edges_of(MAIN, "relu") == [Edge(source="conv", target="relu")]
    assert [d.code for d in session.diagnostics()] == ["dead-node"]
