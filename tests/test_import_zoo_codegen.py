"""Models written by others, through the whole path: import, generate, load the original
state_dict with strict=True, same outputs. Each case is a way codegen used to break what
import got right: it renamed named units into a module list, crashed summing the unknown
MACs of a kept class, used a kept class's ``(x, None)`` as a tensor, and wrote forward code
that read a block argument it never kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from builder.cli import main
from builder.gui.panels.summary_panel import totals_text
from codegen import generate_source, import_model
from codegen.importer import recording
from codegen.kept_results import call_target
from graph_schema.summary import render_table, summarize
from tests.codegen_support import class_names, generate_and_import, import_path
from tests.import_models import zoo_codegen
from tests.import_models.round_trip import round_trip
from tests.kept_blocks import kept_block, placed_gate

MODELS = Path(zoo_codegen.__file__)


def built(cls, *args):
    torch.manual_seed(0)
    with recording():  # kept classes need the arguments they were built with
        return cls(*args)


def randomised_norms(model: torch.nn.Module) -> torch.nn.Module:
    """BatchNorm statistics away from (0, 1): a missing or misplaced norm shows."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
    return model


# -- 1. names import recorded are never folded into a list ---------------------------------
def test_named_units_keep_their_names_and_real_lists_stay_lists(tmp_path):
    model = randomised_norms(built(zoo_codegen.NamedUnits))
    _, source, generated = round_trip(model, (torch.randn(2, 3, 6, 6),), tmp_path)
    assert set(generated.state_dict()) == set(model.state_dict())
    for name in ("unit1", "unit4", "block_a", "block_c"):
        assert f"self.{name} = Unit()" in source
    assert "units" not in source
    # The model's own nn.ModuleList is one in the code too, looped over as it was.
    assert "self.layers = nn.ModuleList([Unit() for _ in range(num_layers)])" in source
    assert "for layer in self.layers:" in source


def test_the_same_placements_in_a_drawn_block_still_fold(tmp_path):
    """A drawn block takes its input shapes from where it is placed; import records them.
    Without them (as if drawn) the units are one list again, weights and all."""
    project = import_model(built(zoo_codegen.NamedUnits), (torch.randn(2, 3, 6, 6),))
    unit = project.block("Unit")
    for node in unit.inputs():
        node.params.pop("shape")
    source, module, _ = generate_and_import(project, tmp_path)
    # unit1 ... unit4 in the stage, block_a ... block_c in the model
    assert source.count("self.units = nn.ModuleList([Unit() for _ in range(num_units)])") == 2
    assert "self.block_a" not in source and "self.unit1" not in source
    keys = set(getattr(module, class_names(source)[-1])().state_dict())
    assert "stage.units.3.conv.weight" in keys and "stage.unit4.conv.weight" not in keys


# -- 3. kept classes inside drawn ones ---------------------------------------------------------
def test_a_kept_class_inside_a_block_imports_generates_and_summarises(tmp_path, capsys):
    """The whole path a user takes, the import in its own process: `generate` and `summary`
    used to end in a traceback adding None MACs."""
    out = tmp_path / "nested.json"
    result = subprocess.run(
        [sys.executable, "-m", "builder", "import", f"{MODELS}:NestedKept", "--input", "2,6",
         "-o", str(out)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    code_path = tmp_path / "nested_code.py"
    assert main(["generate", str(out), "-o", str(code_path)]) == 0
    assert main(["summary", str(out)]) == 0
    table = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in table.splitlines()[4:13]}
    assert rows["stage"][-1] == "?" and rows["pre"][-1] == "36"  # known inside the block
    assert rows["head"][-1] == "18"
    assert "MACs per sample: ? (not counted: source kept verbatim in stage, aux, second, ...)" \
        in table

    source = code_path.read_text()
    assert "x, _ = self.aux(x)  # -> (N, 6)" in source
    module = import_path(code_path)
    model = built(zoo_codegen.NestedKept)
    generated = getattr(module, class_names(source)[-1])()
    generated.load_state_dict(model.state_dict(), strict=True)
    _assert_same_outputs(model, generated, torch.randn(3, 6))


def test_a_kept_class_returning_a_tuple_is_unpacked_where_it_is_called(tmp_path):
    model = built(zoo_codegen.NestedKept)
    project, source, _ = round_trip(model, (torch.randn(2, 6),), tmp_path)
    forward = source[source.rindex("def forward"):]
    assert forward.count(", _ = self.") == 5, forward  # aux, second, refine[0..2]
    assert "for layer in self.refine" not in forward  # x = layer(x) would pass the tuple on
    summary = summarize(project)
    assert summary.total_macs is None
    assert [r.macs for r in summary.rows if r.name == "head"] == [18]


@pytest.mark.parametrize("forward, targets, expected", [
    ("if x.sum() > 0:\n            return self.fc(x), None\n        return x, None",
     ["y"], "y, _"),
    ("return (self.fc(x),)", ["y"], "(y,)"),
    ("return self.fc(x), (None, x), 3", ["a", "b"], "a, (_, b), _"),
    ("return x, None  # a comment\n\n    def helper(self, x):\n        return x",
     ["y"], "y, _"),
    ("out = self.fc(x), None\n        return out", ["y"], None),  # the source does not say
    ("if x.sum() > 0:\n            return x, None\n        return x", ["y"], None),
    ("return self.fc(x), None", ["y", "z"], None),  # not the recorded outputs
    ("return self.fc(x)", ["y"], None),
])
def test_how_a_kept_call_is_unpacked_follows_its_return_statements(forward, targets,
                                                                    expected):
    source = ("class Gate(nn.Module):\n    def __init__(self, width):\n        super().__init__()"
              "\n        self.fc = nn.Linear(width, width)\n\n    def forward(self, x):\n"
              f"        {forward}\n")
    project = placed_gate(kept_block(source))
    assert call_target(project, "block:Gate", targets) == expected


def test_a_summary_with_a_kept_block_says_its_macs_are_unknown():
    project = placed_gate(kept_block())
    summary = summarize(project)
    assert summary.rows[0].macs is None and summary.total_macs is None
    note = "MACs per sample: ? (not counted: source kept verbatim in gate)"
    assert note in render_table(summary) and note in totals_text(summary)  # the app's panel
    assert "class Gate" in generate_source(project)


# -- 5. op parameters lifted to block arguments ------------------------------------------------
def test_an_op_parameter_that_differs_per_placement_is_kept_on_self(tmp_path):
    model = built(zoo_codegen.PaddedPair)
    _, source, generated = round_trip(model, (torch.randn(2, 3, 8, 8),), tmp_path)
    # The module named pad keeps its name; the argument is kept beside it.
    assert "self.pad = nn.ZeroPad2d(1)" in source
    assert "self.pad_2 = pad\n" in source and "F.pad(x, self.pad_2, mode=\"replicate\")" \
        in source
    assert "self.negative_slope = negative_slope" in source
    assert "negative_slope=self.negative_slope" in source
    assert generated.second.pad_2 == (2, 0, 0, 1)
    _assert_same_outputs(model, generated, torch.randn(3, 3, 5, 7))


# -- helpers ---------------------------------------------------------------------------------
def _assert_same_outputs(model, generated, inputs) -> None:
    model.eval()
    generated.eval()
    with torch.no_grad():
        expected, got = model(inputs.clone()), generated(inputs.clone())
    assert expected.shape == got.shape
    assert torch.allclose(expected, got, rtol=1e-4, atol=1e-5)
