"""Kept source in the app: shown read-only, trusted only when the user says so, one undo
step, and never trusted by a question nobody answered."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from builder.gui.file_prompts import ExportCodeDialog
from builder.gui.mainwindow import MainWindow
from builder.gui.panels.diagnostics_panel import FIX, REVIEW_TEXT
from builder.gui.trust_dialog import KeptSourceDialog, visible_text
from graph_schema.document import Block, ImportedName, OpaqueCall, OpaqueClass
from graph_schema.files import save_project
from graph_schema.trust import CONFIG_ENV
from tests.graphs import chain_edges, node, project
from tests.gui.scripted_prompts import script
from tests.gui.windows import open_window

KEEP = "class Keep(nn.Module):\n    def forward(self, x):\n        return x\n"
NN = ImportedName(module="torch.nn", alias="nn")


@pytest.fixture(autouse=True)
def trust_key_folder(tmp_path, monkeypatch):
    """Each test signs with a key of its own."""
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "trust"))


def kept(name: str = "Keep", source: str = KEEP, imports=(NN,)) -> Block:
    opaque = OpaqueClass(class_name=name, source=source, origin="models.py",
                         reason="control flow on tensor values", imports=list(imports),
                         calls=[OpaqueCall(inputs=[["N", 4]], outputs=[["N", 4]])])
    return Block(name=name, nodes=[node("i", "io.Input", "x", shape=["N", 4]),
                                   node("o", "io.Output", "y")], opaque=opaque)


def kept_project(*extra: Block, source: str = KEEP):
    nodes = [node("in", "io.Input", "x", shape=["N", 4]), node("k", "block:Keep", "keep"),
             node("out", "io.Output", "y")]
    return project(nodes, chain_edges("in", "k", "out"), blocks=[kept(source=source), *extra])


def untrusted_codes(window: MainWindow) -> list[str]:
    return [d.network for d in window.doc.diagnostics() if d.code == "untrusted-source"]


def window_with(qtbot, proj, **answers):
    window = open_window(qtbot, project=proj)
    return window, script(window, **answers)


def click_trust(qtbot):
    """A scripted review that clicks Trust and Sign in the real dialog."""
    def answer(dialog: KeptSourceDialog):
        assert dialog.trust_button.isEnabled()
        qtbot.mouseClick(dialog.trust_button, Qt.MouseButton.LeftButton)
        assert dialog.result() == KeptSourceDialog.DialogCode.Accepted
        return dialog.chosen()
    return answer


# -- asking --------------------------------------------------------------------------------
def test_opening_a_project_with_untrusted_source_shows_the_error_and_asks_once(qtbot,
                                                                               tmp_path):
    path = tmp_path / "kept.json"
    save_project(kept_project(), path)
    window, prompts = window_with(qtbot, None, offer_kept_source_review=[False])

    assert window.files.open_path(path)

    assert prompts.asked == [("offer_kept_source_review", (["Keep"], "open"))]
    assert untrusted_codes(window) == ["Keep"]
    panel = window.panels.diagnostics
    rows = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    buttons = [panel.tree.itemWidget(item, FIX) for item in rows]
    assert [b.text() for b in buttons if b is not None] == [REVIEW_TEXT]
    assert window.files.kept_source.action.isEnabled()


def test_review_shows_the_source_read_only_and_cancel_trusts_nothing(qtbot):
    seen = {}

    def look(dialog: KeptSourceDialog):
        seen["read_only"] = dialog.source.isReadOnly()
        seen["source"] = dialog.source.toPlainText()
        seen["fields"] = {k: v.text() for k, v in dialog.fields.items()}
        seen["banner"] = dialog.banner.text()
        dialog.reject()
        return None

    window, prompts = window_with(qtbot, kept_project(), review_kept_source=[look])
    window.files.kept_source.action.trigger()

    assert seen["read_only"] and seen["source"] == KEEP
    assert seen["fields"]["Class"] == "Keep" and seen["fields"]["Origin"] == "models.py"
    assert seen["fields"]["Imports"] == "import torch.nn as nn"
    assert "run" in seen["banner"] and "generated module" in seen["banner"]
    assert untrusted_codes(window) == ["Keep"]
    assert window.controller.undo_stack.count() == 0


def test_trusting_is_one_undo_step_and_undo_brings_the_error_back(qtbot):
    window, prompts = window_with(qtbot, kept_project(), review_kept_source=[click_trust(qtbot)])
    doc, stack = window.doc, window.controller.undo_stack

    with qtbot.waitSignal(doc.diagnostics_changed):
        assert window.files.kept_source.review()

    assert untrusted_codes(window) == []
    assert stack.count() == 1 and not stack.isClean() and window.isWindowModified()
    assert not window.files.kept_source.action.isEnabled()
    assert doc.project.block("Keep").opaque.signature.startswith("hmac-sha256:")
    with qtbot.waitSignal(doc.diagnostics_changed):
        stack.undo()
    assert untrusted_codes(window) == ["Keep"]
    assert doc.project.block("Keep").opaque.signature == ""
    assert window.files.kept_source.action.isEnabled()
    with qtbot.waitSignal(doc.diagnostics_changed):
        stack.redo()
    assert untrusted_codes(window) == []


def test_a_disallowed_import_cannot_be_trusted(qtbot):
    bad = kept("Bad", "class Bad(nn.Module):\n    pass\n",
               imports=(NN, ImportedName(module="os", alias="os")))
    window, prompts = window_with(qtbot, kept_project(bad))

    dialog = KeptSourceDialog(window.files.kept_source.untrusted(), "Bad", window)
    qtbot.addWidget(dialog)
    assert dialog.shown_block().name == "Bad"
    assert dialog.problem.isVisibleTo(dialog) and "imports os" in dialog.problem.text()
    assert dialog.chosen() == ["Keep"]
    bad_item = dialog.list.item(1)
    assert not bad_item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.chosen() == [] and not dialog.trust_button.isEnabled()

    # Asking for it anyway (a scripted answer) is refused with the reason, nothing changes.
    assert not window.files.kept_source.trust(["Bad"])
    (error,) = prompts.errors
    assert "imports os" in error
    assert window.controller.undo_stack.count() == 0
    assert sorted(untrusted_codes(window)) == ["Bad", "Keep"]


def test_unanswered_questions_never_trust(qtbot):
    window = open_window(qtbot, project=kept_project())  # the real Prompts, offscreen
    review = window.files.kept_source

    assert not review.offer_review("open")
    assert not review.review()
    assert untrusted_codes(window) == ["Keep"]
    assert window.controller.undo_stack.count() == 0


def test_saying_no_leaves_it_untrusted(qtbot):
    window, prompts = window_with(qtbot, kept_project(), offer_kept_source_review=[False],
                                  review_kept_source=[None])
    assert not window.files.kept_source.offer_review("open")
    assert not window.files.kept_source.review()
    assert untrusted_codes(window) == ["Keep"]
    assert window.controller.undo_stack.count() == 0


def test_the_diagnostic_and_the_block_menu_offer_the_review(qtbot):
    window, prompts = window_with(qtbot, kept_project(), review_kept_source=[None, None])
    panel = window.panels.diagnostics
    item = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.diagnostics[i].code == "untrusted-source")
    with qtbot.waitSignal(panel.review_requested) as blocker:
        qtbot.mouseClick(panel.tree.itemWidget(item, FIX), Qt.MouseButton.LeftButton)
    assert blocker.args == ["Keep"]
    menu = window.canvas_menu.context_menu(window.current_view(), QPointF(), "k")
    (review,) = [a for a in menu.actions() if a.text() == "Review Kept Source…"]
    review.trigger()
    assert [q for q, _ in prompts.asked] == ["review_kept_source", "review_kept_source"]


def test_export_code_offers_the_review_then_exports(qtbot, tmp_path):
    target = tmp_path / "kept_model.py"
    window, prompts = window_with(qtbot, kept_project(), offer_kept_source_review=[False])

    assert not window.files.exporter.export_code()  # declined: refused, with the reason
    (error,) = prompts.errors
    assert "not trusted" in error and not target.exists()

    prompts.answer("offer_kept_source_review", True)
    prompts.answer("review_kept_source", click_trust(qtbot))
    prompts.answer("export_code", (target, False))
    assert window.files.exporter.export_code()
    assert "class Keep(nn.Module):" in target.read_text()
    assert [q for q, _ in prompts.asked][-3:] == ["offer_kept_source_review",
                                                  "review_kept_source", "export_code"]


def test_a_bidi_override_is_shown_escaped_and_highlighted(qtbot):
    sneaky = ("class Keep(nn.Module):\n    def forward(self, x):\n"
              "        role = \"user\u202e \u2066# admin\u2069 \u2066\"\n        return x\n")
    window, _ = window_with(qtbot, kept_project(source=sneaky))
    dialog = KeptSourceDialog(window.files.kept_source.untrusted(), None, window)
    qtbot.addWidget(dialog)

    shown = dialog.source.toPlainText()
    assert "\u202e" not in shown and "\u2066" not in shown
    assert "\\u202e" in shown and shown.count("\\u2066") == 2
    assert len(dialog.source.extraSelections()) == 4
    assert dialog.hidden_note.isVisibleTo(dialog) and "4 invisible" in dialog.hidden_note.text()
    assert visible_text("a\tb\x00\r\n") == ("a\tb\\x00\\x0d\n", [(3, 4), (7, 4)])


# -- export never writes over a project ----------------------------------------------------
@pytest.fixture
def lenet_window(qtbot, tmp_path):
    source = Path(__file__).resolve().parents[2] / "examples" / "lenet.json"
    path = tmp_path / "lenet.json"
    path.write_bytes(source.read_bytes())
    window = open_window(qtbot)
    prompts = script(window)
    assert window.files.open_path(path)
    other = tmp_path / "other_project.py"  # a project, whatever its name says
    other.write_bytes(source.read_bytes())
    return window, prompts, path, other


@pytest.mark.parametrize("which", ["open", "other"])
def test_export_code_never_writes_over_a_project(lenet_window, which):
    window, prompts, path, other = lenet_window
    target = path if which == "open" else other
    before = target.read_bytes()
    prompts.answer("export_code", (target, False))

    assert not window.files.exporter.export_code()

    assert target.read_bytes() == before
    (error,) = prompts.errors
    assert ("is the input file" if which == "open" else "is a TorchCanvas project") in error


def test_export_code_writes_nothing_when_the_training_script_would_replace_a_project(
        lenet_window, tmp_path):
    window, prompts, path, other = lenet_window
    module = tmp_path / "net.py"
    script_path = tmp_path / "train_net.py"
    script_path.write_bytes(path.read_bytes())
    prompts.answer("export_code", (module, True))

    assert not window.files.exporter.export_code()
    assert not module.exists() and script_path.read_bytes() == path.read_bytes()
    assert "is a TorchCanvas project" in prompts.errors[0]


@pytest.mark.parametrize("which", ["open", "other"])
def test_export_diagram_never_writes_over_a_project(lenet_window, which):
    window, prompts, path, other = lenet_window
    target = path if which == "open" else other
    before = target.read_bytes()
    prompts.answer("diagram_path", target)

    assert not window.files.exporter.export_diagram()

    assert target.read_bytes() == before
    assert len(prompts.errors) == 1 and "Cannot export the diagram" in prompts.errors[0]


def test_export_code_dialog_asks_before_replacing_a_typed_file(qtbot, tmp_path):
    existing = tmp_path / "model.py"
    existing.write_text("# mine\n")
    asked = []
    dialog = ExportCodeDialog(existing, None, lambda paths: asked.append(paths) or False)
    qtbot.addWidget(dialog)

    dialog.accept()
    assert asked == [[existing]] and dialog.result() != ExportCodeDialog.DialogCode.Accepted

    dialog.confirm_replace = lambda paths: True
    dialog.accept()
    assert dialog.result() == ExportCodeDialog.DialogCode.Accepted
    assert existing.read_text() == "# mine\n"  # the dialog only asks; export writes
