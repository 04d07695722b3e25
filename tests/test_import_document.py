"""What import added to the document, checked without torch: held tensors, shared and
uncalled modules, tied weights, kept sources. Each mistake a hand-edited file can hold gets a
diagnostic that names it; a kept source is checked, never run."""

from __future__ import annotations

import json

import pytest
import torch

from codegen import GenerationError, generate_source
from graph_schema import ProjectError, project_from_json, validate
from graph_schema.document import (
    ImportedName,
    Network,
    Node,
    Project,
    Tie,
)
from graph_schema.summary import summarize
from tests.codegen_support import generate_and_import
from tests.graphs import chain_edges, edges, node
from tests.kept_blocks import KEPT, kept_block, placed_gate


def codes(project: Project) -> list[str]:
    return [d.code for d in validate(project) if d.is_error]


def linear_net(*extra: Node, links=None, **network) -> Project:
    nodes = [node("in", "io.Input", "x", shape=["N", 4]),
             node("fc", "nn.Linear", "fc", out_features=4), *extra,
             node("out", "io.Output", "y")]
    links = links if links is not None else chain_edges("in", "fc", "out")
    return Project(networks=[Network(name="n", nodes=nodes, edges=links, **network)])


# -- shared and uncalled modules ----------------------------------------------------------------
@pytest.mark.parametrize("changes, fragment", [
    ({"reuses": "nothing"}, "does not exist"),
    ({"reuses": "in"}, "is a io.Input, not a nn.Linear"),
    ({"reuses": "fc", "params": {"out_features": 3}}, "cannot have params"),
])
def test_bad_reuse_is_named(changes, fragment):
    again = Node(id="again", type="nn.Linear", name="again", **changes)
    p = linear_net(again, links=chain_edges("in", "fc", "again", "out"))
    problems = [d for d in validate(p) if d.code == "bad-reuse"]
    assert problems and fragment in problems[0].message


def test_reusing_node_counts_no_weights_of_its_own():
    again = Node(id="again", type="nn.Linear", name="again", reuses="fc")
    p = linear_net(again, links=chain_edges("in", "fc", "again", "out"))
    assert not codes(p)
    assert summarize(p).total_params == 20
    assert generate_source(p).count("nn.Linear(") == 1


def test_uncalled_module_needs_its_params_and_no_wires():
    spare = Node(id="spare", type="nn.Linear", name="spare", called=False,
                 params={"out_features": 2})
    p = linear_net(spare)
    errors = [d for d in validate(p) if d.is_error]
    assert errors[0].code == "missing-param" and "never called" in errors[0].message
    wired = Node(id="spare", type="nn.Linear", name="spare", called=False,
                 params={"in_features": 4, "out_features": 4})
    p = linear_net(wired, links=chain_edges("in", "fc", "spare", "out"))
    assert "uncalled-connected" in codes(p)


# -- tied weights --------------------------------------------------------------------------------
@pytest.mark.parametrize("tie, fragment", [
    (Tie(target="ghost.weight", source="fc.weight"), "'ghost' is not a module"),
    (Tie(target="fc", source="fc.weight"), "must be an attribute"),
])
def test_bad_tie_is_named(tie, fragment):
    problems = [d for d in validate(linear_net(tied=[tie])) if d.code == "bad-tie"]
    assert problems and fragment in problems[0].message


def test_tie_path_syntax_is_checked_when_loading():
    doc = json.loads(linear_net().model_dump_json())
    doc["networks"][0]["tied"] = [{"target": "fc.weight; import os", "source": "fc.bias"}]
    with pytest.raises(ProjectError, match="tied"):
        project_from_json(json.dumps(doc))


# -- kept sources ------------------------------------------------------------------------------
@pytest.mark.parametrize("source, fragment", [
    ("import os\n", "exactly one class definition"),
    (KEPT + "\nprint('hello')\n", "exactly one class definition"),
    ("class Other(nn.Module):\n    pass\n", "defines class 'Other'"),
    ("class Gate(nn.Module)\n", "not valid Python"),
    ("(" * 500 + ")" * 500, "not valid Python"),
])
def test_kept_source_must_be_one_class_of_its_name(source, fragment):
    doc = {"format_version": 3, "networks": [{"name": "n"}],
           "blocks": [json.loads(kept_block().model_dump_json())]}
    doc["blocks"][0]["opaque"]["source"] = source
    with pytest.raises(ProjectError, match=fragment):
        project_from_json(json.dumps(doc))


def test_loading_a_kept_source_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    hostile = f"class Gate(nn.Module):\n    open({str(marker)!r}, 'w').close()\n"
    doc = {"format_version": 3, "networks": [{"name": "n"}],
           "blocks": [json.loads(kept_block().model_dump_json())]}
    doc["blocks"][0]["opaque"]["source"] = hostile
    project = project_from_json(json.dumps(doc))
    validate(project)
    assert not marker.exists()


def test_kept_block_generates_verbatim_and_runs(tmp_path):
    p = placed_gate(kept_block())
    warnings = [d for d in validate(p) if d.code == "opaque-source"]
    assert warnings and not warnings[0].is_error and "review it" in warnings[0].message
    assert summarize(p).total_params == 20
    source, module, _ = generate_and_import(p, tmp_path)
    assert "# Kept verbatim from the imported model: class Gate (models.py)." in source
    assert "# fmt: off\nclass Gate(nn.Module):" in source
    assert "self.gate = Gate(width=4)" in source
    assert module.N()(torch.randn(2, 4)).shape == (2, 4)


def test_kept_block_with_unrecorded_shapes_says_so():
    p = placed_gate(kept_block(), shape=("N", 4, 2))
    problems = [d for d in validate(p) if d.code == "opaque-unknown-shape"]
    assert problems and "import the model again" in problems[0].message


@pytest.mark.parametrize("module", ["numpy", "os", "subprocess", "builtins", "importlib"])
def test_kept_block_imports_only_from_the_allow_list(module):
    block = kept_block(imports=[ImportedName(module=module, alias="m")])
    problems = [d for d in validate(placed_gate(block)) if d.code == "opaque-import"]
    assert problems and problems[0].is_error and f"imports {module!r}" in problems[0].message


@pytest.mark.parametrize("module", ["torch.nn.functional", "math", "typing", "collections.abc",
                                    "functools", "itertools", "dataclasses"])
def test_kept_block_may_import_torch_and_computing_modules(module):
    block = kept_block(imports=[ImportedName(module=module, alias="m")])
    assert "opaque-import" not in codes(placed_gate(block))


def test_kept_block_has_no_body_of_its_own():
    block = kept_block()
    block.nodes.append(node("fc", "nn.Linear", "fc", in_features=4, out_features=4))
    block.edges = edges(("i", "fc"), ("fc", "o"))
    assert "opaque-source" in codes(placed_gate(block))


def test_two_kept_classes_of_one_name_cannot_share_a_file():
    second = kept_block().model_copy(update={"name": "Gate2"})
    nodes = [node("in", "io.Input", "x", shape=["N", 4]), node("a", "block:Gate", "a"),
             node("b", "block:Gate2", "b"), node("out", "io.Output", "y")]
    p = Project(networks=[Network(name="n", nodes=nodes,
                                  edges=chain_edges("in", "a", "b", "out"))],
                blocks=[kept_block(), second])
    with pytest.raises(GenerationError, match="two kept classes"):
        generate_source(p)


# -- held tensors -------------------------------------------------------------------------------
@pytest.mark.parametrize("params, check", [
    ({"shape": [2, 3]}, lambda t: torch.count_nonzero(t) == 0),
    ({"shape": [2, 3], "fill": "ones"}, lambda t: bool((t == 1).all())),
    ({"shape": [4], "fill": "full", "value": -2.5}, lambda t: bool((t == -2.5).all())),
    ({"shape": [4096], "fill": "normal", "value": 0.02}, lambda t: 0.015 < t.std() < 0.025),
    ({"shape": [3], "dtype": "int64", "fill": "full", "value": 7.0},
     lambda t: t.dtype == torch.int64 and t.tolist() == [7, 7, 7]),
])
def test_held_tensor_starts_as_its_params_say(params, check, tmp_path):
    learned = {} if params.get("dtype", "float32") == "float32" else {"requires_grad": False}
    p = linear_net(node("w", "attr.Parameter", "w", **params, **learned),
                   node("b", "attr.Buffer", "b", persistent=False, **params))
    _, module, _ = generate_and_import(p, tmp_path)
    model = module.N()
    assert check(model.w.detach()) and check(model.b)
    assert "w" in model.state_dict() and "b" not in model.state_dict()


def test_integer_parameter_must_not_require_gradients():
    p = linear_net(node("w", "attr.Parameter", "w", shape=[2], dtype="int64"))
    problems = [d for d in validate(p) if d.code == "bad-param"]
    assert problems and "requires_grad" in problems[0].message
