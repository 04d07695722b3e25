"""The sanity ladder's checklist, fed the progress lines of `torchcanvas sanity --json-progress`
(written out here in that format): rungs fill in live, a failing ladder lists its likely causes,
and a cause that names a node links to it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.gui.train.ladder_view import (
    FAILED,
    NOT_RUN,
    PASSED,
    PENDING,
    RUNGS,
    RUNNING,
    LadderView,
)

ROOT = Path(__file__).resolve().parents[2]
SOFTMAX_CAUSE = (
    "softmax before the loss: node 'probs' (nn.Softmax) feeds cross_entropy, which applies "
    "log-softmax itself; remove it and return the raw scores"
)
LR_CAUSE = "learning rate too high: in 'full' the loss went from 2.3 to nan"


def rung(name, passed, loss, threshold, steps, notes=()):
    return {"event": "rung", "name": name, "passed": passed, "loss": loss,
            "threshold": threshold, "steps": steps, "notes": list(notes)}  # fmt: skip


PASSING = [
    {"event": "rung_started", "name": "init"},
    rung("init", True, 2.2951, 2.302585, 0),
    {"event": "rung_started", "name": "1 sample"},
    rung("1 sample", True, 0.0812, 0.1, 12),
    {"event": "rung_started", "name": "10 samples"},
    rung("10 samples", True, 0.0931, 0.1, 41),
    {"event": "rung_started", "name": "full"},
    rung("full", True, 1.02, 1.1513, 1),
    {"event": "ladder", "passed": True, "lr": 0.001, "causes": [], "cause_nodes": []},
]
FAILING = [
    {"event": "rung_started", "name": "init"},
    rung(
        "init",
        False,
        2.3026,
        2.302585,
        0,
        ["the output rows are probabilities (sum to 1), not raw logits"],
    ),  # fmt: skip
    {"event": "rung_started", "name": "1 sample"},
    rung("1 sample", False, 1.4612, 0.1, 200),
    {"event": "rung_started", "name": "10 samples"},
    rung("10 samples", False, 1.9, 0.1, 300),
    {"event": "rung_started", "name": "full"},
    rung("full", False, None, 1.1513, 37, ["the loss became nan at step 37"]),
    {
        "event": "ladder",
        "passed": False,
        "lr": 0.001,
        "causes": [SOFTMAX_CAUSE, LR_CAUSE],
        "cause_nodes": [{"cause": SOFTMAX_CAUSE, "node": "probs"}],
    },  # fmt: skip
]


@pytest.fixture
def ladder(qtbot) -> LadderView:
    view = LadderView()
    qtbot.addWidget(view)
    view.resize(620, 420)
    view.show()
    qtbot.waitExposed(view)
    return view


def states(view: LadderView) -> list[tuple[str, str]]:
    return [(name, row.state) for name, row in view.rows.items()]


def all_shown(view: LadderView) -> bool:
    return all(
        row.mark.isVisible() and row.title.isVisible() and row.detail.isVisible()
        for row in view.rows.values()
    )


def feed(view: LadderView, events) -> None:
    for event in events:
        view.add_event(event)


def test_reset_shows_the_four_rungs_pending(ladder):
    assert list(ladder.rows) == ["init", "1 sample", "10 samples", "full"]
    assert states(ladder) == [(name, PENDING) for name in RUNGS]
    assert [row.title.text() for row in ladder.rows.values()] == list(RUNGS.values())
    assert all(row.mark.text() == "○" for row in ladder.rows.values())
    assert all_shown(ladder)
    assert ladder.verdict.text() == "" and ladder.passed is None


def test_rungs_fill_in_live(qtbot, ladder):
    feed(ladder, PASSING[:3])
    assert states(ladder)[:2] == [("init", PASSED), ("1 sample", RUNNING)]
    running = ladder.rows["1 sample"]
    assert running.detail.text() == "running…"
    first = running.mark.text()
    qtbot.waitUntil(lambda: running.mark.text() != first)  # the spinner turns
    assert ladder.rows["init"].mark.text() == "✓"
    assert ladder.rows["init"].detail.text() == "loss 2.3 (expected 2.3)"
    feed(ladder, PASSING[3:])
    assert states(ladder) == [(name, PASSED) for name in RUNGS]
    assert ladder.rows["1 sample"].detail.text() == "loss 0.0812 < 0.1 after 12 steps"
    assert ladder.rows["full"].detail.text() == "loss 1.02 < 1.15 after 1 step"
    assert ladder.passed is True
    assert ladder.verdict.text().startswith("Passed at lr 0.001: every rung passed")
    assert ladder.causes == [] and not ladder._spinner.isActive()


def test_a_failing_ladder_shows_notes_nan_and_its_causes(ladder):
    feed(ladder, FAILING)
    assert states(ladder) == [(name, FAILED) for name in RUNGS]
    init, full = ladder.rows["init"], ladder.rows["full"]
    assert init.mark.text() == "✗"
    assert init.notes.isVisible()
    assert init.notes.text() == "• the output rows are probabilities (sum to 1), not raw logits"
    assert full.detail.text() == "loss not finite (NaN or Inf) not < 1.15 after 37 steps"
    assert ladder.verdict.text() == (
        "Failed (init, 1 sample, 10 samples, full) at lr 0.001. Likely causes:"
    )
    assert [label.text() for label in ladder.cause_labels] == [
        f"• {SOFTMAX_CAUSE}",
        f"• {LR_CAUSE}",
    ]
    assert all(label.isVisible() for label in ladder.cause_labels)
    assert ladder.causes == [(SOFTMAX_CAUSE, ["probs"]), (LR_CAUSE, [])]


def test_a_cause_with_a_node_links_to_it(qtbot, ladder):
    feed(ladder, FAILING)
    (link,) = ladder.node_links
    assert link.isVisible() and "Show 'probs' on the canvas" in link.text()
    inside = QPoint(link.fontMetrics().horizontalAdvance("\u00a0\u00a0\u00a0Show 'pr"),
                    link.height() // 2)  # fmt: skip
    with qtbot.waitSignal(ladder.node_requested) as requested:
        QTest.mouseClick(link, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, inside)
    assert requested.args == ["probs"]


def test_a_node_whose_cause_is_not_listed_still_gets_its_link(ladder):
    link = {"cause": "node 'fc2' gets no gradient", "node": "fc2"}
    ladder.add_event(
        {"event": "ladder", "passed": False, "lr": 0.1, "causes": [], "cause_nodes": [link]}
    )
    assert ladder.causes == [("node 'fc2' gets no gradient", ["fc2"])]
    assert len(ladder.node_links) == 1


def test_rungs_the_ladder_never_reached_are_marked_not_run(ladder):
    feed(ladder, FAILING[:3])  # init failed, 1 sample started, then the ladder ended
    ladder.add_event({"event": "ladder", "passed": False, "lr": 0.001, "causes": [LR_CAUSE],
                      "cause_nodes": []})  # fmt: skip
    assert states(ladder) == [("init", FAILED), ("1 sample", NOT_RUN), ("10 samples", NOT_RUN),
                              ("full", NOT_RUN)]  # fmt: skip
    assert ladder.verdict.text().startswith("Failed (init) at lr 0.001")
    assert not ladder._spinner.isActive()


def test_unknown_and_malformed_lines_are_ignored_and_new_rungs_are_added(ladder):
    odd = [{"event": "info", "message": "hi"}, {"no": "event"}, {"event": "rung"}, "text",
           {"event": "rung_started", "name": 3}, {"event": "ladder", "lr": "fast"}]  # fmt: skip
    for line in odd:
        ladder.add_event(line)
    ladder.reset()
    ladder.add_event(rung("init", True, float("nan"), None, 0, ["odd", 7]))
    assert ladder.rows["init"].detail.text() == "loss NaN"
    assert ladder.rows["init"].notes.text() == "• odd"
    ladder.add_event(rung("100 samples", True, 0.05, 0.1, 3))
    assert list(ladder.rows)[-1] == "100 samples"
    assert ladder.rows["100 samples"].title.text() == "100 samples"
    assert all_shown(ladder)
    ladder.reset()
    assert list(ladder.rows) == list(RUNGS)


def test_reset_after_a_failed_ladder_starts_clean(ladder):
    feed(ladder, FAILING)
    ladder.reset()
    assert states(ladder) == [(name, PENDING) for name in RUNGS]
    assert ladder.causes == [] and ladder.node_links == [] and ladder.verdict.text() == ""
    assert all(not row.notes.isVisible() for row in ladder.rows.values())
    assert all_shown(ladder)
    feed(ladder, FAILING)  # a second run shows its causes too
    assert ladder.cause_labels[0].isVisible() and ladder.node_links[0].isVisible()


def test_the_rung_names_are_the_runners():
    """sanity.py imports torch, so the view keeps its own copy of the rung names: each is a
    string the runner's code uses as it is (a renamed rung fails here)."""
    tree = ast.parse((ROOT / "builder" / "training" / "sanity.py").read_text())
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    assert set(RUNGS) <= strings


def test_screenshots(ladder, tmp_path):
    feed(ladder, FAILING)
    assert ladder.grab().save(str(tmp_path / "ladder_failed.png"))
    ladder.reset()
    feed(ladder, PASSING[:5])
    QApplication.sendPostedEvents()  # the layout's pending update, as the event loop would
    assert ladder.grab().save(str(tmp_path / "ladder_running.png"))
