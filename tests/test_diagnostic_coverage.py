"""Meta-test: every diagnostic code graph_schema can emit has a test that makes it fire.

The codes are read from graph_schema's source with ``ast``, not from a list kept by hand:
every function or class that takes a ``code`` argument (Diagnostic, node_diagnostic,
graph_diagnostic, ShapeError, Inference._diag, the linter's warn, ...) is an emitter, and
every call of one gives the literal codes of its ``code`` argument (or the parameter's
default when the call leaves it out). A call whose code is neither a literal nor passed on
from the caller's own ``code`` parameter fails the test, so a new code cannot hide in a
variable. A new code without a row in CODE_TESTS fails too, as test_catalog_coverage.py does
for layer types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "graph_schema"
TESTS = ROOT / "tests"

# code -> the tests that make it fire ("file::function"); each names the code it checks.
CODE_TESTS: dict[str, list[str]] = {
    # the graph itself: types, parameters, wiring, names, reachability
    "unknown-type": ["test_diagnostics.py::test_unknown_type_names_the_type"],
    "unknown-param": ["test_diagnostics.py::test_unknown_param_names_the_param_and_the_type"],
    "bad-param": ["test_diagnostics.py::test_bad_param_says_what_the_value_must_be",
                  "test_diagnostics.py::test_bad_param_from_a_shape_rule_comes_with_its_fix",
                  "test_diagnostics.py::test_an_input_shape_with_minus_one_is_a_bad_param"],
    "missing-param": ["test_diagnostics.py::test_missing_param_names_the_param_to_set"],
    "shape-rule-failed": ["test_diagnostics.py::test_a_rule_that_trips_is_reported_not_raised"],
    "cycle": ["test_diagnostics.py::test_cycle_marks_every_node_on_the_loop_and_only_those"],
    "port-taken": ["test_diagnostics.py::test_port_taken_when_one_input_has_two_connections"],
    "no-such-port": ["test_diagnostics.py::test_no_such_port_on_the_target_side",
                     "test_diagnostics.py::test_no_such_port_on_the_source_side"],
    "unconnected-input": ["test_diagnostics.py::test_unconnected_input_names_the_port"],
    "edge-dangling": [
        "test_diagnostics.py::test_edge_dangling_pinned_to_the_end_that_exists",
        "test_diagnostics.py::test_edge_dangling_on_the_graph_when_both_ends_are_missing"],
    "bad-name": ["test_diagnostics.py::test_bad_name_says_why"],
    "duplicate-name": [
        "test_diagnostics.py::test_duplicate_name_pins_the_second_node_and_names_the_first"],
    "no-input": ["test_diagnostics.py::test_no_input"],
    "no-output": ["test_diagnostics.py::test_no_output"],
    "unreachable-output": [
        "test_diagnostics.py::test_unreachable_output_when_only_a_parameter_free_source_feeds_it"],
    "unused-input": [
        "test_diagnostics.py::test_unused_input_and_dead_node_are_warnings_on_their_nodes"],
    "dead-node": [
        "test_diagnostics.py::test_unused_input_and_dead_node_are_warnings_on_their_nodes"],
    # shape rules
    "shape-mismatch": [
        "test_diagnostics_shapes.py::"
        "test_linear_on_a_feature_map_says_expected_and_received_and_offers_flatten",
        "test_diagnostics_shapes.py::test_adding_a_skip_that_was_not_projected",
        "test_diagnostics_shapes.py::test_cat_of_different_sizes_offers_interpolate"],
    "rank-mismatch": [
        "test_diagnostics_shapes.py::test_conv2d_on_a_flat_input_is_a_rank_mismatch",
        "test_diagnostics_shapes.py::test_batchnorm2d_after_a_linear_is_a_rank_mismatch",
        "test_diagnostics_shapes.py::test_cat_of_different_ranks_names_the_odd_input"],
    "bad-dim": ["test_diagnostics_shapes.py::test_a_dimension_out_of_range_is_bad_dim"],
    "too-small": ["test_diagnostics_shapes.py::test_a_kernel_larger_than_the_input_is_too_small"],
    "empty": ["test_diagnostics_shapes.py::test_a_slice_that_keeps_nothing_is_empty"],
    "symbolic-size": [
        "test_diagnostics_shapes.py::test_in_features_cannot_come_from_a_symbolic_size",
        "test_diagnostics_shapes.py::test_splitting_a_symbolic_size_into_pieces_is_symbolic_size"],
    # blocks and kept source
    "block-error": ["test_diagnostics_blocks.py::"
                    "test_block_error_on_the_placement_names_the_node_inside"],
    "block-recursion": [
        "test_diagnostics_blocks.py::"
        "test_a_block_that_contains_itself_is_block_recursion_on_its_placement",
        "test_diagnostics_blocks.py::test_two_blocks_that_contain_each_other_name_the_chain"],
    "block-ports": [
        "test_diagnostics_blocks.py::test_block_ports_when_a_block_has_no_input_or_output"],
    "opaque-source": [
        "test_diagnostics_blocks.py::test_signed_kept_source_is_a_warning_to_review_it",
        "test_diagnostics_blocks.py::test_an_opaque_block_with_a_body_of_its_own"],
    "untrusted-source": ["test_diagnostics_blocks.py::test_unsigned_kept_source_is_untrusted"],
    "opaque-import": [
        "test_diagnostics_blocks.py::test_kept_source_importing_os_is_refused_signed_or_not"],
    "opaque-unknown-shape": [
        "test_diagnostics_blocks.py::test_an_opaque_block_placed_on_a_shape_it_was_not_imported_with"],
    # what import adds
    "bad-reuse": ["test_diagnostics_import.py::test_bad_reuse_says_what_is_wrong",
                  "test_diagnostics_import.py::test_reusing_a_node_that_reuses_is_bad_reuse"],
    "uncalled-connected": [
        "test_diagnostics_import.py::test_an_uncalled_layer_that_is_connected",
        "test_diagnostics_import.py::test_only_a_layer_can_be_kept_uncalled"],
    "bad-tie": ["test_diagnostics_import.py::test_bad_tie"],
    "bad-kept-network": [
        "test_diagnostics_import.py::test_a_kept_network_must_be_its_one_kept_block"],
    "bad-module-list": ["test_diagnostics_import.py::test_bad_module_list_on_the_graph",
                        "test_diagnostics_import.py::test_a_module_in_two_lists_is_pinned_to_the_node",
                        "test_diagnostics_import.py::test_a_tensor_op_cannot_be_in_a_module_list"],
    "sequential-not-chain": [
        "test_diagnostics_import.py::test_a_tensor_op_in_a_sequential_graph",
        "test_diagnostics_import.py::test_a_branch_in_a_sequential_graph",
        "test_diagnostics_import.py::test_a_layer_off_the_chain_of_a_sequential_graph",
        "test_diagnostics_import.py::test_a_layer_with_two_outputs_in_a_sequential_graph",
        "test_diagnostics_import.py::test_a_sequential_graph_with_two_inputs_or_a_module_list"],
    # the lints
    "softmax-before-loss": ["test_lints.py::test_softmax_before_cross_entropy_offers_to_remove_it",
                            "test_lints.py::test_softmax_before_nll_asks_for_log_softmax"],
    "linear-linear": ["test_lints.py::test_linear_after_linear_offers_an_activation_between",
                      "test_lints.py::test_dropout_between_two_linears_is_no_activation"],
    "bias-before-batchnorm": ["test_lints.py::test_bias_before_batch_norm_offers_bias_false"],
    "dropout-before-batchnorm": ["test_lints.py::test_dropout_before_batch_norm"],
    "reshape-not-permute": [
        "test_lints.py::test_reshape_to_the_same_sizes_in_another_order_offers_permute"],
    "linear-on-feature-map": ["test_lints.py::test_linear_on_a_feature_map_offers_flatten"],
}


# -- reading the codes out of graph_schema ---------------------------------------------------
class Emitter:
    """A callable with a ``code`` parameter: where it sits among the positional arguments
    (``self`` left out), and its default."""

    def __init__(self, index: int, default: str | None, method: bool):
        self.index, self.default, self.method = index, default, method


def _parameter(args: ast.arguments, skip_self: bool) -> tuple[int, str | None] | None:
    names = [a.arg for a in args.args]
    if "code" not in names:
        return None
    position = names.index("code")
    first_default = len(names) - len(args.defaults)
    default = None
    if position >= first_default:
        value = args.defaults[position - first_default]
        assert isinstance(value, ast.Constant), ast.dump(value)
        default = value.value
    return position - (1 if skip_self else 0), default


def emitters(trees: dict[Path, ast.Module]) -> dict[str, Emitter]:
    found: dict[str, Emitter] = {}
    for tree in trees.values():
        for item in tree.body:
            if isinstance(item, ast.FunctionDef):
                param = _parameter(item.args, skip_self=False)
                if param:
                    found[item.name] = Emitter(*param, method=False)
            elif isinstance(item, ast.ClassDef):
                fields = [s.target.id for s in item.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                if "code" in fields:  # a dataclass: the fields are the parameters
                    found[item.name] = Emitter(fields.index("code"), None, method=False)
                for member in item.body:
                    if not isinstance(member, ast.FunctionDef):
                        continue
                    param = _parameter(member.args, skip_self=True)
                    if param and member.name == "__init__":
                        found[item.name] = Emitter(*param, method=False)
                    elif param:
                        found[member.name] = Emitter(*param, method=True)
    return found


def _literals(expr: ast.expr) -> set[str] | None:
    """The codes a ``code`` argument can take, or None when it is not made of literals."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        body, orelse = _literals(expr.body), _literals(expr.orelse)
        return None if body is None or orelse is None else body | orelse
    return None


def _passed_on(expr: ast.expr, function: ast.FunctionDef | None) -> bool:
    """``code`` handed on from the caller's own parameter, or ``err.code`` of an error caught."""
    if isinstance(expr, ast.Attribute) and expr.attr == "code":
        return True
    return isinstance(expr, ast.Name) and function is not None \
        and expr.id in {a.arg for a in function.args.args}


def _callee(call: ast.Call) -> tuple[str | None, bool]:
    """The name called and whether it is called on ``self``."""
    if isinstance(call.func, ast.Name):
        return call.func.id, False
    if isinstance(call.func, ast.Attribute):
        on_self = isinstance(call.func.value, ast.Name) and call.func.value.id == "self"
        return call.func.attr, on_self
    return None, False


def emitted_codes() -> tuple[dict[str, list[str]], list[str], int]:
    """(code -> where it is emitted, calls whose code cannot be read, calls read)."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8"))
             for path in sorted(PACKAGE.rglob("*.py"))}
    known = emitters(trees)
    codes: dict[str, list[str]] = {}
    unreadable: list[str] = []

    def visit(tree: ast.AST, path: Path, function: ast.FunctionDef | None) -> None:
        for child in ast.iter_child_nodes(tree):
            if isinstance(child, ast.FunctionDef):
                visit(child, path, child)
                continue
            if isinstance(child, ast.Call):
                name, on_self = _callee(child)
                emitter = known.get(name)
                if emitter is not None and emitter.method == on_self:
                    where = f"{path.relative_to(ROOT)}:{child.lineno}"
                    expr = next((k.value for k in child.keywords if k.arg == "code"), None)
                    if expr is None and len(child.args) > emitter.index:
                        expr = child.args[emitter.index]
                    values = {emitter.default} if expr is None else _literals(expr)
                    if values and None not in values:
                        for value in values:
                            codes.setdefault(value, []).append(where)
                    elif expr is None or not _passed_on(expr, function):
                        unreadable.append(where)
            visit(child, path, function)

    for path, tree in trees.items():
        visit(tree, path, None)
    calls = sum(len(places) for places in codes.values())
    return codes, unreadable, calls


CODES, UNREADABLE, CALLS = emitted_codes()


def test_the_extraction_finds_the_codes_it_should():
    assert not UNREADABLE, f"code arguments that are neither literals nor passed on: {UNREADABLE}"
    # Far fewer would mean the extraction lost track of an emitter, not that codes went away.
    assert len(CODES) >= 35, sorted(CODES)
    assert CALLS >= 100, CALLS
    for code in ("shape-mismatch", "cycle", "duplicate-name", "linear-linear",
                 "untrusted-source", "block-recursion"):
        assert code in CODES, code
    # ShapeError without a code is a shape-mismatch: the default is read, not assumed.
    assert len(CODES["shape-mismatch"]) >= 10


def test_every_code_has_a_row_and_every_row_a_code():
    assert sorted(set(CODES) - set(CODE_TESTS)) == [], "codes no test makes fire"
    assert sorted(set(CODE_TESTS) - set(CODES)) == [], "rows for codes graph_schema no longer emits"


def _test_function(path: Path, name: str) -> ast.FunctionDef | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next((item for item in tree.body
                 if isinstance(item, ast.FunctionDef) and item.name == name), None)


@pytest.mark.parametrize("code", sorted(CODE_TESTS))
def test_each_listed_test_exists_and_names_its_code(code):
    assert CODE_TESTS[code], code
    for entry in CODE_TESTS[code]:
        file_name, name = entry.split("::")
        assert name.startswith("test_"), entry
        function = _test_function(TESTS / file_name, name)
        assert function is not None, f"{entry} does not exist"
        literals = {n.value for n in ast.walk(function) if isinstance(n, ast.Constant)}
        assert code in literals, f"{entry} never mentions {code!r}"
