"""File > Import Model…: a real child process per import; the open project never changes
unless an import succeeds, and then the model opens as a new unsaved project."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from builder.gui.app import Windows
from builder.gui.import_dialog import ImportDialog, import_arguments, input_problem, module_members
from graph_schema.files import project_to_json
from tests.gui.windows import open_window

MODELS = textwrap.dedent("""
    import os
    import time

    import torch.nn as nn


    class Tiny(nn.Module):
        def __init__(self, hidden=3):
            super().__init__()
            self.fc = nn.Linear(4, hidden)

        def forward(self, x):
            return self.fc(x).relu()


    class Hangs(nn.Module):
        def __init__(self):
            super().__init__()
            while True:
                time.sleep(0.05)


    class Aborts(nn.Module):
        def __init__(self):
            super().__init__()
            os.abort()


    def build_tiny():
        return Tiny(hidden=5)
""")


@pytest.fixture
def models(tmp_path) -> Path:
    path = tmp_path / "models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path



def run_import(qtbot, dialog: ImportDialog, spec: str, inputs: str = "2,4",
               kwargs: str = "{}", timeout: int = 60):
    dialog.spec.setEditText(spec)
    dialog.inputs.setPlainText(inputs)
    dialog.kwargs.setText(kwargs)
    dialog.timeout.setValue(timeout)
    dialog.start()
    assert dialog.runner.running()
    qtbot.waitUntil(lambda: not dialog.runner.running(), timeout=90_000)


def test_the_file_offers_its_classes_and_functions_without_running_it(qtbot, models):
    assert module_members(models) == ["Tiny", "Hangs", "Aborts", "build_tiny"]
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.set_file(models)
    assert dialog.spec.itemText(0) == f"{models}:Tiny"
    assert module_members(models.with_name("missing.py")) == []


def test_fields_are_checked_before_anything_runs(qtbot):
    assert input_problem("2,3,224,224") is None
    assert input_problem("2,16:int64") is None
    assert "positive whole numbers" in input_problem("2,x")
    assert "dtype" in input_problem("2,3:int 64")
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    for spec, inputs, kwargs, expected in (
            ("models.py", "2,4", "{}", "ClassName"),
            ("models.py:Tiny", "", "{}", "at least one"),
            ("models.py:Tiny", "2,-4", "{}", "positive"),
            ("models.py:Tiny", "2,4", "{hidden: 3}", "not valid JSON"),
            ("models.py:Tiny", "2,4", "[3]", "JSON object")):
        dialog.spec.setEditText(spec)
        dialog.inputs.setPlainText(inputs)
        dialog.kwargs.setText(kwargs)
        dialog.start()
        assert expected in dialog.message.text()
        assert not dialog.runner.running()


def test_arguments_and_the_equivalent_command(qtbot):
    args = import_arguments("m.py:Net", ["2,3,8,8", "2,5:int64"], '{"k": 1}',
                            Path("out.json"), 30)
    assert args == ["-m", "builder", "import", "m.py:Net", "--input", "2,3,8,8", "--input",
                    "2,5:int64", "--kwargs", '{"k": 1}', "-o", "out.json", "--timeout", "30"]
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.spec.setEditText("m.py:Net")
    dialog.inputs.setPlainText("1,3,32,32")
    assert dialog.command_line().startswith("torchcanvas import m.py:Net --input 1,3,32,32")


def test_a_successful_import_opens_in_a_new_window_and_keeps_the_project(qtbot, models):
    window = open_window(qtbot, "mlp.json")
    window.controller.set_project_field("notes", "work in progress")
    before = project_to_json(window.doc.project)
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    adopted = []
    dialog.imported.connect(lambda project: adopted.append(window.files.adopt_imported(project)))
    run_import(qtbot, dialog, f"{models}:Tiny", kwargs='{"hidden": 3}')
    (new_window,) = adopted
    qtbot.addWidget(new_window)
    assert new_window is not window
    assert project_to_json(window.doc.project) == before
    types = {n.type for n in new_window.doc.project.networks[0].nodes}
    assert "nn.Linear" in types
    assert new_window.doc.path is None
    assert not new_window.controller.undo_stack.isClean()  # unsaved: closing will ask
    new_window.controller.undo_stack.setClean()
    window.controller.undo_stack.setClean()


def test_a_fresh_window_takes_the_import_itself(qtbot, models):
    window = Windows().new_window()
    qtbot.addWidget(window)
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    dialog.imported.connect(window.files.adopt_imported)
    run_import(qtbot, dialog, f"{models}:build_tiny")
    fc = next(n for n in window.doc.project.networks[0].nodes if n.type == "nn.Linear")
    assert fc.params.get("out_features") == 5
    window.controller.undo_stack.setClean()


@pytest.mark.parametrize("spec, timeout, expected", [
    ("{models}:Nope", 60, "has no 'Nope'"),
    ("{models}:Hangs", 5, "no result after 5 s"),
    ("{models}:Aborts", 60, "killed by signal 6 (SIGABRT) before it finished"),
])
def test_failures_say_what_happened_and_change_nothing(qtbot, models, spec, timeout, expected):
    window = open_window(qtbot, "lenet.json")
    before = project_to_json(window.doc.project)
    dialog = ImportDialog(window)
    qtbot.addWidget(dialog)
    imported = []
    dialog.imported.connect(imported.append)
    run_import(qtbot, dialog, spec.format(models=models), timeout=timeout)
    assert expected in dialog.message.text()
    assert not imported and not dialog.runner.running()
    assert dialog.import_button.isEnabled()
    assert project_to_json(window.doc.project) == before


def test_cancel_stops_a_running_import(qtbot, models):
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.spec.setEditText(f"{models}:Hangs")
    dialog.inputs.setPlainText("2,4")
    dialog.start()
    with qtbot.waitSignal(dialog.runner.failed, timeout=30_000) as blocker:
        dialog.buttons.rejected.emit()  # Cancel while running stops the import only
    assert blocker.args == ["Import cancelled."]
    assert dialog.message.text() == "Import cancelled."
