"""Diagnostics of reusable blocks and of kept-source (opaque) blocks: errors inside a block,
a block that contains itself, a block without ports, and the trust of kept source."""

from __future__ import annotations

from graph_schema import validate
from graph_schema.document import ImportedName
from tests.diagnosis import codes, the
from tests.graphs import block, chain_edges, node, project
from tests.kept_blocks import kept_block, placed_gate


def dense(**fc_params):
    """Block 'Dense': x -> Linear(8) -> y."""
    return block("Dense", [node("i", "io.Input", "x"),
                           node("c", "nn.Linear", "fc", out_features=8, **fc_params),
                           node("o", "io.Output", "y")], chain_edges("i", "c", "o"))


def placed(*blocks, type_name="block:Dense", shape=("N", 8)):
    return project([node("in", "io.Input", "x", shape=list(shape)),
                    node("b", type_name, "dense"), node("out", "io.Output", "y")],
                   chain_edges("in", "b", "out"), blocks=blocks)


def test_block_error_on_the_placement_names_the_node_inside():
    d = the(placed(dense(in_features=4)), "block-error")
    assert (d.node_id, d.port, d.network, d.severity) == ("b", None, "main", "error")
    assert d.message == ("inside block 'Dense', node 'fc' (nn.Linear), input 0: expected the "
                         "last dimension to be 4 (in_features), received (N, 8)")


def test_a_block_that_fits_its_input_has_no_block_error():
    assert validate(placed(dense(in_features=8))) == []
    assert validate(placed(dense())) == []


def test_a_block_that_contains_itself_is_block_recursion_on_its_placement():
    loop = block("Loop", [node("i", "io.Input", "x"), node("me", "block:Loop", "again"),
                          node("o", "io.Output", "y")], chain_edges("i", "me", "o"))
    d = the(placed(loop, type_name="block:Loop"), "block-recursion")
    assert (d.node_id, d.port, d.severity) == ("b", None, "error")
    assert d.message == ("inside block 'Loop', node 'again' (block:Loop): block 'Loop' "
                         "contains itself (Loop -> Loop)")
    assert "block-error" not in codes(placed(loop, type_name="block:Loop"))


def test_two_blocks_that_contain_each_other_name_the_chain():
    first = block("A", [node("i", "io.Input", "x"), node("c", "block:B", "inner"),
                        node("o", "io.Output", "y")], chain_edges("i", "c", "o"))
    second = block("B", [node("i", "io.Input", "x"), node("c", "block:A", "inner"),
                         node("o", "io.Output", "y")], chain_edges("i", "c", "o"))
    d = the(placed(first, second, type_name="block:A"), "block-recursion")
    assert d.node_id == "b"
    assert d.message.endswith("block 'A' contains itself (A -> B -> A)")


def test_a_block_placing_another_block_is_no_recursion():
    outer = block("Outer", [node("i", "io.Input", "x"), node("c", "block:Dense", "inner"),
                            node("o", "io.Output", "y")], chain_edges("i", "c", "o"))
    assert validate(placed(outer, dense(), type_name="block:Outer")) == []


def test_block_ports_when_a_block_has_no_input_or_output():
    portless = block("Dense", [node("c", "nn.Linear", "fc", in_features=8, out_features=8)], [])
    (d,) = [d for d in validate(placed(portless)) if d.code == "block-ports"]
    assert (d.node_id, d.scope, d.network, d.severity) == (None, "block", "Dense", "error")
    assert d.message == "a block needs at least one io.Input and one io.Output"
    assert "block-ports" not in codes(placed(dense()))


# -- kept source -----------------------------------------------------------------------------
def test_signed_kept_source_is_a_warning_to_review_it():
    d = the(placed_gate(kept_block()), "opaque-source")
    assert (d.node_id, d.scope, d.network, d.severity) == (None, "block", "Gate", "warning")
    assert d.message == ("keeps the source of class Gate from the imported model (control flow "
                         "on values); generated code runs it as it is: review it")
    assert "untrusted-source" not in codes(placed_gate(kept_block()))


def test_unsigned_kept_source_is_untrusted():
    d = the(placed_gate(kept_block(sign=False)), "untrusted-source")
    assert (d.node_id, d.scope, d.network, d.severity) == (None, "block", "Gate", "error")
    assert d.message.startswith("keeps the source of class Gate, which is not trusted: it is "
                                "not signed by this machine's trust key")
    assert "torchcanvas trust FILE" in d.message and "--trust-kept-source" in d.message


def test_kept_source_edited_after_signing_is_untrusted():
    edited = kept_block().model_copy(deep=True)
    edited.opaque.source = edited.opaque.source.replace("x.sum() > 0", "x.sum() > 1")
    assert "untrusted-source" in codes(placed_gate(edited))


def test_an_opaque_block_with_a_body_of_its_own():
    gate = kept_block()
    gate.nodes.append(node("r", "nn.ReLU", "act"))
    (d,) = [d for d in validate(placed_gate(gate)) if d.code == "opaque-source" and d.is_error]
    assert (d.node_id, d.network) == (None, "Gate")
    assert d.message == "an opaque block has only its io nodes: its body is the kept source"
    assert not [d for d in validate(placed_gate(kept_block()))
                if d.code == "opaque-source" and d.is_error]


def test_kept_source_importing_os_is_refused_signed_or_not():
    imports = [ImportedName(module="torch.nn", alias="nn"), ImportedName(module="os", alias="os")]
    d = the(placed_gate(kept_block(imports=imports)), "opaque-import")
    assert (d.node_id, d.network, d.severity) == (None, "Gate", "error")
    assert d.message.startswith("its kept source imports 'os'; kept source may import only "
                                "torch, math")
    assert "opaque-import" not in codes(placed_gate(kept_block()))


def test_an_opaque_block_placed_on_a_shape_it_was_not_imported_with():
    d = the(placed_gate(kept_block(), shape=("N", 5)), "opaque-unknown-shape")
    assert (d.node_id, d.port, d.network) == ("g", None, "n")
    assert d.message == ("opaque block 'Gate' (class Gate, kept as source) was imported for "
                         "inputs (N, 4) with other arguments or shapes; what it makes of (N, 5) "
                         "is unknown: import the model again with such inputs")
    assert "opaque-unknown-shape" not in codes(placed_gate(kept_block(), shape=("N", 4)))
