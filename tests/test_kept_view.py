"""A kept class is never a black box: import records what it does inside (its submodules and
tensor ops, with their shapes), the file keeps it, codegen ignores it, `render` draws it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from codegen import generate_source
from codegen.importer.record_kept_view import record_view
from graph_schema import load_project, save_project
from graph_schema.document import RecordedView

MODELS = textwrap.dedent('''
    import torch
    from torch import nn


    class Gate(nn.Module):
        """Branches on a value: torch.fx cannot trace it, so import keeps its source."""

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)
            self.act = nn.ReLU()
            self.out = nn.Linear(8, 4)

        def forward(self, x):
            if x.sum() > 0:
                y = self.act(self.fc(x)) + x
            else:
                y = torch.matmul(self.fc(x), x.t()) @ x
            return self.out(y * 2)


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Linear(4, 8)
            self.gate = Gate()
            self.head = nn.Linear(4, 2)

        def forward(self, x):
            return self.head(self.gate(torch.relu(self.stem(x))))
''')


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kept_view") / "kept_models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gate_class(models):
    namespace: dict = {}
    exec(compile(MODELS, str(models), "exec"), namespace)  # noqa: S102 - our own test model
    return namespace["Gate"]


@pytest.fixture(scope="module")
def imported(models, tmp_path_factory) -> Path:
    """The project `torchcanvas import` writes for Net (a real child process)."""
    out = tmp_path_factory.mktemp("imported") / "net.json"
    result = subprocess.run([sys.executable, "-m", "builder", "import", f"{models}:Net",
                             "--input", "3,4", "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return out


def steps(view: RecordedView) -> list[tuple[str, str, list[list[int]]]]:
    return [(node.label, node.path, node.outputs) for node in view.nodes]


# -- recording ---------------------------------------------------------------------------
def test_the_branch_that_ran_is_recorded_with_its_shapes(gate_class):
    gate = gate_class()
    taken = steps(record_view(gate, (torch.ones(3, 8),), {}).view)
    assert ("nn.Linear", "fc", [[3, 8]]) in taken
    assert ("nn.ReLU", "act", [[3, 8]]) in taken
    assert ("op.add", "", [[3, 8]]) in taken
    assert ("nn.Linear", "out", [[3, 4]]) in taken
    assert taken[0] == ("io.Input", "", [[3, 8]]) and taken[-1] == ("io.Output", "", [[3, 4]])
    assert not any(label == "op.matmul" for label, _, _ in taken)

    other = steps(record_view(gate, (-torch.ones(3, 8),), {}).view)
    assert ("op.matmul", "", [[3, 3]]) in other and ("op.matmul", "", [[3, 8]]) in other
    assert not any(path == "act" for _, path, _ in other)


def test_edges_follow_the_data_and_name_the_argument(gate_class):
    view = record_view(gate_class(), (-torch.ones(3, 8),), {}).view
    by_id = {node.id: node for node in view.nodes}
    into = {(by_id[e.source].label, by_id[e.target].label, e.target_port) for e in view.edges}
    # y @ x: the input is the matmul's second argument, the first matmul's result its first.
    assert ("io.Input", "op.matmul", 1) in into
    assert ("op.matmul", "op.matmul", 0) in into
    assert ("nn.Linear", "io.Output", 0) in into


def test_a_module_that_cannot_run_gives_no_view_and_a_reason(gate_class):
    recording = record_view(gate_class(), (torch.ones(3, 5),), {})  # fc takes 8 features
    assert recording.view is None
    assert recording.reason.startswith("RuntimeError: ") and "\n" not in recording.reason


def test_recording_leaves_the_module_as_it_was(gate_class):
    gate = gate_class().train()
    before = {k: v.clone() for k, v in gate.state_dict().items()}
    record_view(gate, (torch.ones(2, 8),), {})
    assert gate.training and all(m.training for m in gate.modules())
    assert all(torch.equal(before[k], v) for k, v in gate.state_dict().items())


# -- the file ----------------------------------------------------------------------------
def test_import_writes_the_view_and_the_file_round_trips(imported, tmp_path):
    project = load_project(imported)
    gate = project.block("Gate")
    assert gate.opaque is not None and gate.opaque.view is not None
    assert ("nn.Linear", "fc", [[3, 8]]) in steps(gate.opaque.view)
    again = tmp_path / "again.json"
    save_project(project, again)
    assert load_project(again) == project


def test_a_file_without_views_loads_unchanged(imported, tmp_path):
    data = json.loads(imported.read_text())
    del data["blocks"][0]["opaque"]["view"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert load_project(old).block("Gate").opaque.view is None


@pytest.mark.parametrize("edit, fragment", [
    (lambda v: v["edges"].append({"source": "in0", "target": "nowhere"}), "nowhere"),
    (lambda v: v["nodes"].append(dict(v["nodes"][0])), "same id"),
    (lambda v: v["nodes"][0].update(outputs=[[-1]]), "greater than or equal"),
    (lambda v: v["nodes"][0].update(code="print()"), "Extra inputs"),
])
def test_a_bad_view_is_refused_by_name(imported, tmp_path, edit, fragment):
    data = json.loads(imported.read_text())
    edit(data["blocks"][0]["opaque"]["view"])
    with pytest.raises(ValidationError, match=fragment):
        RecordedView.model_validate(data["blocks"][0]["opaque"]["view"])


def test_codegen_ignores_the_view(imported):
    project = load_project(imported)
    without = project.model_copy(deep=True)
    block = without.block("Gate")
    block.opaque = block.opaque.model_copy(update={"view": None})
    assert generate_source(project) == generate_source(without)


# -- drawing -----------------------------------------------------------------------------
def render(project_file: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "builder", "render", str(project_file),
                           "--block", "Gate", "-o", str(out), "--scale", "1"],
                          capture_output=True, text=True, timeout=120)


def test_render_draws_the_inside_of_a_kept_block(imported, tmp_path, qapp):
    from PySide6.QtGui import QImage

    with_view = tmp_path / "inside.png"
    result = render(imported, with_view)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr

    data = json.loads(imported.read_text())
    data["blocks"][0]["opaque"]["view"] = None
    ports_only = tmp_path / "ports.json"
    ports_only.write_text(json.dumps(data))
    assert render(ports_only, tmp_path / "ports.png").returncode == 0

    inside, ports = QImage(str(with_view)), QImage(str(tmp_path / "ports.png"))
    # Input, fc, act, add, mul, out and output drawn one under another, against two ports.
    assert inside.height() > 3 * ports.height()
