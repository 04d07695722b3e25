"""The app's document and the command line agree on what is wrong: validate() and the
document's diagnostics come from the same session code, before and after edits."""

from __future__ import annotations

from builder.gui.controller import EditController
from builder.gui.project_document import ProjectDocument, block_key, network_key
from graph_schema import validate
from tests.graphs import block, chain_edges, node, project


def placed_dense(width: int, **input_params):
    """x (N, width) -> Dense (x -> Linear(4, 4) -> y) -> y."""
    dense = block("Dense", [node("i", "io.Input", "x", **input_params),
                            node("fc", "nn.Linear", in_features=4, out_features=4),
                            node("o", "io.Output", "y")], chain_edges("i", "fc", "o"))
    return project([node("x", "io.Input", shape=["N", width]), node("a", "block:Dense"),
                    node("y", "io.Output")], chain_edges("x", "a", "y"), blocks=[dense])


def test_a_block_failing_only_under_its_placement_is_the_same_error_in_both(qapp):
    doc = ProjectDocument(placed_dense(8))
    inside = [d for d in doc.diagnostics() if d.network == "Dense"]
    assert [(d.node_id, d.code) for d in inside] == [("fc", "shape-mismatch")]
    assert validate(doc.project) == doc.diagnostics()


def test_a_block_passing_only_under_its_placement_is_clean_in_both(qapp):
    doc = ProjectDocument(placed_dense(4, shape=["N", 9]))
    assert validate(doc.project) == doc.diagnostics() == []


def test_after_edits_the_document_still_agrees_with_a_fresh_validate(qapp):
    doc = ProjectDocument(placed_dense(4))
    controller = EditController(doc)
    main, dense = network_key("main"), block_key("Dense")
    events = []
    doc.diagnostics_changed.connect(events.append)
    controller.set_param(main, "x", "shape", ["N", 8])
    assert events == [main, dense]  # the placement, then the block's tab under the new shape
    assert validate(doc.project.model_copy(deep=True)) == doc.diagnostics() != []
    controller.set_param(dense, "fc", "in_features", 8)
    assert validate(doc.project.model_copy(deep=True)) == doc.diagnostics() == []
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert validate(doc.project.model_copy(deep=True)) == doc.diagnostics() == []
