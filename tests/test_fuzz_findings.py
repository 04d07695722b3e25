"""Minimal reproductions of the bugs the hostile-file suite (test_fuzz_files.py) found, each
a plain test that names its input; the one strict xfail is a bug still open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from graph_schema.document import ImportedName
from tests.codegen_support import import_path
from tests.fuzz_strategies import SOURCES
from tests.fuzz_support import cli, review_lines, visible_text
from tests.kept_blocks import kept_block, placed_gate

ROOT = Path(__file__).resolve().parent.parent


def kept_project(tmp_path, **changes) -> Path:
    path = tmp_path / "kept.json"
    path.write_text(placed_gate(kept_block(**changes)).model_dump_json(), encoding="utf-8")
    return path


def nn_import() -> ImportedName:
    return ImportedName(module="torch.nn", alias="nn")


@pytest.mark.parametrize("item", [dict(module="math", alias="class"),
                                  dict(module="typing", attribute="None", alias="Optional"),
                                  dict(module="torch.", alias="t"),
                                  dict(module="torch..nn", alias="t")],
                         ids=["alias-keyword", "attribute-keyword", "trailing-dot", "empty-part"])
def test_kept_import_that_is_not_python_is_refused(item):
    """Found by the suite: `import math as class` and `import torch.` passed into code."""
    with pytest.raises(ValueError, match="keyword|pattern"):
        ImportedName(**item)


@pytest.mark.parametrize("where", ["name", "refusal", "origin"])
def test_trust_shows_block_names_with_control_characters_escaped(tmp_path, where):
    forged = "'\n   1 | class Gate(nn.Module):  # \u202e"
    imports = [nn_import(), *([ImportedName(module="os", alias="os")] * (where == "refusal"))]
    block = kept_block(sign=False, imports=imports,
                       origin=forged if where == "origin" else "models.py")
    doc = json.loads(placed_gate(block).model_dump_json())
    if where != "origin":
        doc["blocks"][0]["name"] = "Gate" + forged
        doc["networks"][0]["nodes"][1]["type"] = f"block:Gate{forged}"
    path = tmp_path / "kept.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = cli("trust", path)
    assert run.code == (1 if where == "refusal" else 2)
    assert visible_text(run.out.replace("\t", " ") + run.err), str(run)
    assert len(run.lines) == 1, str(run)
    if where != "refusal":
        assert len(run.out.split("\n")) == 1 + review_lines(block), run.out


def test_summary_shows_names_with_control_characters_escaped(tmp_path):
    doc = json.loads(SOURCES["mlp.json"])
    doc["networks"][0]["name"] = "mlp\x1b[2J\u202e"
    doc["networks"][0]["nodes"][1]["name"] = "fc1\nfake row"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    run = cli("summary", path)
    assert run.code == 1
    assert visible_text(run.out), run.out
    plain = cli("summary", ROOT / "examples" / "mlp.json")
    assert len(run.out.splitlines()) == len(plain.out.splitlines()), run.out


@pytest.mark.parametrize("value", [[0.5, 1.0], [None], ["a"], [True], {"a": 1}],
                         ids=["floats", "null", "strings", "bools", "object"])
def test_block_arguments_that_are_lists_of_other_things_are_errors(tmp_path, value):
    doc = json.loads(SOURCES["resnet18.json"])
    doc["blocks"][0]["arguments"]["scales"] = value
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    if isinstance(value, dict):  # no Python literal: the file is refused when it loads
        assert cli("validate", path).code == 2
        return
    assert cli("validate", path).code == 0  # an unused argument of any literal value is fine
    generated = cli("generate", path, "-o", tmp_path / "out.py")
    assert generated.code == 0, str(generated)
    import_path(tmp_path / "out.py")


@pytest.mark.parametrize("value", ['{"a": 1}', "[1, {}]", "1e400", "[-1e400]"])
def test_argument_values_that_are_not_literals_are_refused(tmp_path, value):
    path = tmp_path / "p.json"
    text = SOURCES["mlp.json"].decode().replace('"arguments": {}', f'"arguments": {{"w": {value}}}')
    path.write_text(text, encoding="utf-8")
    generated = cli("generate", path, "-o", tmp_path / "out.py")
    assert generated.code == cli("validate", path).code == 2, str(generated)  # refused on load
    assert not (tmp_path / "out.py").exists()


@pytest.mark.xfail(strict=True, raises=(RuntimeError, AttributeError), reason=(
    "graph_schema/structure.py check_ties checks the path's node, not that its module has "
    "the attribute or that both ends have one shape: mlp.json with fc2.weight (128x256) "
    "tied to fc1.weight (256x784), or with fc1.weight tied to relu1.weight (a ReLU has "
    "none), validates and generates `self.fc2.weight = self.fc1.weight`; the model fails "
    "in forward, or when it is built"))
@pytest.mark.parametrize("target, source", [("fc2.weight", "fc1.weight"),
                                            ("fc1.weight", "relu1.weight")],
                         ids=["other-shape", "no-such-attribute"])
def test_tied_weights_that_cannot_be_tied_are_refused(tmp_path, target, source):
    doc = json.loads(SOURCES["mlp.json"])
    doc["networks"][0]["tied"] = [{"target": target, "source": source}]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    if cli("validate", path).code == 1:
        return
    assert cli("generate", path, "-o", tmp_path / "out.py").code == 0
    import_path(tmp_path / "out.py").Mlp()(torch.zeros(2, 784))


def test_render_counts_the_errors_validate_counts(tmp_path, qapp):
    doc = json.loads(SOURCES["resnet18.json"])
    doc["blocks"][0]["nodes"].append({"id": "b", "type": "attr.Buffer", "name": "buf"})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    # The buffer inside the block, and the placement that block makes fail (as the app
    # shows them: the block's tab and the network's node).
    assert cli("validate", path).out.endswith(": invalid (2 errors, 0 warnings)\n")
    run = cli("render", path, "-o", tmp_path / "p.svg")
    assert f"{path}: 2 errors, shown in the diagram" in run.lines, str(run)


@pytest.mark.parametrize("networks", ["null", "5", '[{"name": "n", "nodes": 5}]',
                                      '[{"name": "n", "nodes": null}]'])
def test_lists_that_are_not_lists_are_unusable_not_a_crash(tmp_path, networks):
    """Found by test_mangled_json: ``"networks": null`` (or ``"nodes": 5``) made loading
    raise TypeError in graph_schema/files.py _rename_legacy_types, before pydantic could
    say what was wrong: a traceback from every command. Fixed there."""
    path = tmp_path / "p.json"
    path.write_text(f'{{"format_version": 4, "networks": {networks}}}', encoding="utf-8")
    run = cli("validate", path)
    assert run.code == 2 and len(run.lines) == 1, str(run)
    assert run.err.startswith(f"torchcanvas: {path}: networks"), str(run)


def test_kept_source_that_requires_itself_generates(tmp_path):
    """Found by test_kept_source: a kept block whose ``requires`` names itself (a class that
    builds itself, or two that build each other) made generate's topological sort raise
    (NetworkXUnfeasible, a traceback); fixed in codegen/generate.py _dependency_order."""
    path = kept_project(tmp_path, requires=["Gate"])
    assert cli("validate", path).code == 0
    run = cli("generate", path, "-o", tmp_path / "out.py")
    assert run.code == 0, str(run)
    network = import_path(tmp_path / "out.py").N()
    assert network(torch.zeros(2, 4)).shape == (2, 4)
