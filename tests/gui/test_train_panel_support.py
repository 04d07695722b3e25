"""Shared by the Train panel tests (no tests here): a tiny project on disk, a window on it,
scripted answers to the panel's questions, and waiting for a real run to end."""

from __future__ import annotations

from pathlib import Path

from builder.gui.app import Windows
from builder.gui.project_document import ProjectDocument
from builder.gui.train.prompts import TrainPrompts
from graph_schema import load_project, save_project
from graph_schema.document import Edge, Network, Node, Position, Project, Training
from graph_schema.files import project_to_json
from tests.gui.scripted_prompts import ScriptedAnswers, script

RUN_TIMEOUT_MS = 90_000  # a child imports torch first: seconds on a busy machine
# Long enough that Stop or a kill lands mid-run: batch 1, a step event for every step.
SLOW = ["--limit-train-batches", "150", "--log-every-n-steps", "1"]
QUICK = ["--limit-train-batches", "4", "--limit-val-batches", "2", "--log-every-n-steps", "1"]


def tiny_project(layers: tuple[tuple[str, str, dict], ...] | None = None, **training) -> Project:
    """Digits (1x8x8) -> Flatten -> Linear(16) -> ReLU -> Linear(10): trains in a second."""
    layers = layers or (
        ("flat", "nn.Flatten", {}),
        ("fc1", "nn.Linear", {"out_features": 16}),
        ("relu", "nn.ReLU", {}),
        ("fc2", "nn.Linear", {"out_features": 10}),
    )
    nodes = [Node(id="x", type="io.Input", name="x", params={"shape": ["N", 1, 8, 8]})]
    nodes += [Node(id=name, type=kind, name=name, params=params) for name, kind, params in layers]
    nodes.append(Node(id="logits", type="io.Output", name="logits"))
    for index, node in enumerate(nodes):
        node.position = Position(x=0, y=110 * index)
    edges = [Edge(source=a.id, target=b.id) for a, b in zip(nodes, nodes[1:])]
    settings = {"dataset": "digits", "epochs": 2, **training}
    return Project(
        name="tiny",
        networks=[Network(name="tiny", nodes=nodes, edges=edges)],
        training=Training(**settings),
    )


def diverging_project() -> Project:
    """A linear layer into exp, with SGD at learning rate 10: the loss is NaN by step 3."""
    return tiny_project(
        (
            ("flat", "nn.Flatten", {}),
            ("fc", "nn.Linear", {"out_features": 10}),
            ("exp", "op.exp", {}),
        ),
        learning_rate=10.0,
        optimizer="sgd",
    )


class ScriptedTrainPrompts(ScriptedAnswers, TrainPrompts):
    """The panel's questions answered from a queue; a question nobody answered fails at once."""

    def stop_run_on_close(self, description: str) -> bool:
        return self._next("stop_run_on_close", description)

    def data_file(self, title: str, directory: Path, filters: str):
        return self._next("data_file", title)

    def data_folder(self, title: str, directory: Path):
        return self._next("data_folder", title)

    def error(self, title: str, text: str, details: str = "") -> None:
        self.errors.append(f"{title}: {text}\n{details}".strip())


def open_train_window(qtbot, folder: Path, project: Project | None = None, **answers):
    """A window on ``project`` saved as folder/tiny.json (its runs go to folder/runs), with the
    panel's and the File menu's questions scripted. Returns (window, panel, prompts)."""
    path = folder / "tiny.json"
    save_project(project or tiny_project(), path)
    window = Windows().new_window(ProjectDocument(load_project(path), path))
    qtbot.addWidget(window, before_close_func=_before_close)
    script(window)
    panel = window.train
    panel.prompts = ScriptedTrainPrompts(panel, **answers)
    window.resize(1300, 850)
    window.show()
    return window, panel, panel.prompts


def _before_close(window) -> None:
    """Teardown closes the window: test edits are not worth a question, and a run still going
    (a failed test) is stopped rather than asked about."""
    window.controller.undo_stack.setClean()
    if window.train.running():
        window.train.process.process.kill()
        window.train.process.process.waitForFinished(10_000)


def as_json(window) -> str:
    return project_to_json(window.doc.project)


def run_to_end(qtbot, panel, start=None) -> tuple[Path, int, str]:
    """Start (or call ``start``) and wait for the run to end: (run_dir, exit code, message)."""
    with qtbot.waitSignal(panel.run_finished, timeout=RUN_TIMEOUT_MS) as ended:
        assert (start or panel.start)()
    return tuple(ended.args)


def wait_for_event(qtbot, panel, kind: str) -> dict:
    with qtbot.waitSignal(
        panel.event_received,
        timeout=RUN_TIMEOUT_MS,
        check_params_cb=lambda event: event.get("event") == kind,
    ) as got:
        pass
    return got.args[0]
