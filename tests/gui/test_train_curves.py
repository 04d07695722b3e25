"""The Train panel's live curves, fed the events of a real runner child process.

One tiny run on digits (TinyMLP, two epochs of six steps, a one-cycle schedule so the rate
moves) gives the --json-progress lines and the metrics.csv the tests plot; the hand-made
events beside it are the cases a real run rarely shows (NaN, a resumed run, malformed lines).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builder.gui.theme import apply_to_application
from builder.gui.train.curves_style import is_dark
from builder.gui.train.curves_view import LiveCurves, read_metrics_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_MLP = "tests/training_models/tiny_mlp.py:TinyMLP"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> tuple[list[dict], Path]:
    """(the run's --json-progress events, its run folder)."""
    run_dir = tmp_path_factory.mktemp("curves") / "run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "builder",
            "train",
            TINY_MLP,
            "--data",
            "digits",
            "--max-epochs",
            "2",
            "--limit-train-batches",
            "6",
            "--limit-val-batches",
            "2",
            "--log-every-n-steps",
            "1",
            "--lr",
            "0.05",
            "--scheduler",
            "onecycle",
            "--accelerator",
            "cpu",
            "--json-progress",
            "--out",
            str(run_dir),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [e["event"] for e in events].count("epoch") == 2
    return events, run_dir


def curves(qtbot, metric: str | None = "val_acc") -> LiveCurves:
    view = LiveCurves()
    qtbot.addWidget(view)
    view.resize(720, 520)
    view.show()
    view.start_run("run", metric, True)
    return view


def feed(qtbot, view: LiveCurves, events) -> None:
    with qtbot.waitSignal(view.curves_redrawn, timeout=2000):
        for event in events:
            view.add_event(event)


def data(item) -> tuple[list[float], list[float]]:
    x, y = item.getData()
    return ([] if x is None else list(x)), ([] if y is None else list(y))


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(p) and math.isnan(q)) or p == q for p, q in zip(a, b)
    )


def legend_labels(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


def test_a_real_runs_events_are_plotted_as_they_came(qtbot, real_run, tmp_path):
    events, _ = real_run
    view = curves(qtbot)
    feed(qtbot, view, events)
    steps = [e for e in events if e["event"] == "step"]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert data(view.step_loss_item) == ([e["step"] for e in steps], [e["loss"] for e in steps])
    assert data(view.lr_item) == ([e["step"] for e in steps], [e["lr"] for e in steps])
    epoch_steps = [e["step"] for e in epochs]
    assert epoch_steps == [6, 12]  # epochs sit at their last step, on the steps' own axis
    for item, column in (
        (view.train_loss_item, "train_loss"),
        (view.val_loss_item, "val_loss"),
        (view.metric_item, "val_acc"),
    ):
        assert data(item) == (epoch_steps, [e[column] for e in epochs]), column
    best = max(epochs, key=lambda e: e["val_acc"])
    assert data(view.best_item) == ([best["step"]], [best["val_acc"]])
    assert len(set(data(view.lr_item)[1])) > 2  # the one-cycle schedule moved the rate
    assert view.metric_widget.isVisible()
    assert "val_acc" in legend_labels(view.metric_plot)
    assert view.lr_view.viewRange()[1][0] == 0.0  # the rate's axis starts at zero
    x_range = view.loss_plot.viewRange()[0]
    assert x_range[0] < 1 and x_range[1] > 12
    assert view.metric_plot.viewRange()[0] == x_range  # one x-axis, even in a screenshot
    assert view.grab().save(str(tmp_path / "live_curves.png"))


def test_without_a_named_metric_the_epochs_validation_metric_is_used(qtbot, real_run):
    events, _ = real_run
    view = curves(qtbot, metric=None)
    assert not view.metric_widget.isVisible()  # nothing to show before the first epoch
    feed(qtbot, view, events)
    assert view.metric_name == "val_acc"
    assert view.metric_widget.isVisible()
    assert len(data(view.metric_item)[0]) == 2


def test_null_nan_and_garbage_values_leave_gaps(qtbot, tmp_path):
    view = curves(qtbot)
    nan = math.nan
    feed(
        qtbot,
        view,
        [
            {"event": "step", "step": 1, "epoch": 1, "loss": 2.0, "lr": 0.1},
            {"event": "step", "step": 2, "epoch": 1, "loss": None, "lr": 0.1},  # the runner's NaN
            {"event": "step", "step": 3, "epoch": 1, "loss": "abc", "lr": True},
            {"event": "step", "step": 4, "epoch": 1, "loss": 1.5, "lr": 0.05},
            {"event": "step", "epoch": 1, "loss": 9.0},  # no step: nowhere to put it
            {"event": "step", "step": "5", "loss": 9.0},
            {"event": "info", "message": "hello"},
            {"event": "checkpoint", "step": 4, "epoch": 1, "best": True},
            {"no": "event"},
            {
                "event": "epoch",
                "epoch": 1,
                "step": 4,
                "train_loss": 1.7,
                "val_loss": None,
                "lr": 0.05,
            },  # no val_acc at all
            {"event": "step", "step": 5, "epoch": 2, "loss": 1.4, "lr": 0.02},
            {"event": "epoch", "epoch": 2, "train_loss": nan, "val_loss": 1.2, "val_acc": 0.5},
        ],
    )
    assert same(data(view.step_loss_item)[1], [2.0, nan, nan, 1.5, 1.4])
    assert data(view.step_loss_item)[0] == [1, 2, 3, 4, 5]
    assert same(data(view.lr_item)[1], [0.1, 0.1, nan, 0.05, 0.02])
    # the second epoch event has no step: it is placed at the last step seen
    assert same(data(view.train_loss_item)[1], [1.7, nan])
    assert same(data(view.val_loss_item)[1], [nan, 1.2])
    assert data(view.val_loss_item)[0] == [4, 5]
    assert same(data(view.metric_item)[1], [nan, 0.5])
    assert view.grab().save(str(tmp_path / "gaps.png"))  # NaN reaches the painter intact


def test_a_resumed_run_replaces_the_steps_after_its_checkpoint(qtbot):
    view = curves(qtbot)
    feed(
        qtbot,
        view,
        [{"event": "step", "step": s, "loss": float(s), "lr": 0.1} for s in range(1, 11)],
    )
    feed(
        qtbot, view, [{"event": "step", "step": s, "loss": -float(s), "lr": 0.2} for s in (6, 7, 8)]
    )
    x, y = data(view.step_loss_item)
    assert x == [1, 2, 3, 4, 5, 6, 7, 8]
    assert y == [1, 2, 3, 4, 5, -6, -7, -8]


def test_thousands_of_steps_are_buffered_and_drawn_in_one_go(qtbot):
    view = curves(qtbot)
    redraws = []
    view.curves_redrawn.connect(lambda: redraws.append(1))
    count = 20_000
    events = [
        {"event": "step", "step": s, "epoch": 1 + s // 1000, "loss": 1.0 / s, "lr": 1e-3}
        for s in range(1, count + 1)
    ]
    feed(qtbot, view, events)
    assert len(redraws) == 1  # one redraw for the whole burst, not one per line
    x, y = view.step_loss_item.getOriginalDataset()
    assert len(x) == count and x[-1] == count and y[0] == 1.0
    assert isinstance(x, np.ndarray)


def test_start_run_clears_the_live_curves_and_keeps_the_overlays(qtbot, real_run):
    events, run_dir = real_run
    view = curves(qtbot)
    view.overlay("earlier", read_metrics_csv(run_dir / "metrics.csv"))
    feed(qtbot, view, events)
    view.start_run("next", "val_acc", True)
    for item in view.items.values():
        assert data(item) == ([], [])
    assert data(view.best_item) == ([], [])
    assert "earlier val loss" in legend_labels(view.loss_plot)
    assert view.run_name == "next"


def test_an_earlier_run_is_overlaid_from_its_metrics_csv(qtbot, real_run, tmp_path):
    events, run_dir = real_run
    rows = read_metrics_csv(run_dir / "metrics.csv")
    view = curves(qtbot)
    feed(qtbot, view, [e for e in events if e["event"] in ("step", "epoch")])
    view.overlay("earlier", rows)
    overlay = view.overlays["earlier"]
    steps = [row["step"] for row in rows]
    assert data(overlay.items["val_loss"]) == (steps, [row["val_loss"] for row in rows])
    assert data(overlay.items["train_loss"]) == (steps, [row["train_loss"] for row in rows])
    assert data(overlay.metric_item) == (steps, [row["val_acc"] for row in rows])
    assert overlay.items["val_loss"].opts["pen"].style().name == "DashLine"
    live_color = view.val_loss_item.opts["pen"].color()
    assert overlay.items["val_loss"].opts["pen"].color() != live_color
    assert {"earlier val loss", "earlier train loss"} <= set(legend_labels(view.loss_plot))
    assert "earlier val_acc" in legend_labels(view.metric_plot)
    # cells as text, the way csv.DictReader gives them, draw the same
    text_rows = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    view.overlay("as text", text_rows)
    assert data(view.overlays["as text"].items["val_loss"]) == data(overlay.items["val_loss"])
    assert view.overlays["as text"].color_index != overlay.color_index
    assert view.grab().save(str(tmp_path / "overlay.png"))

    view.remove_overlay("earlier")
    assert "earlier" not in view.overlays
    assert not any(label.startswith("earlier") for label in legend_labels(view.loss_plot))
    assert overlay.items == {} and overlay.metric_item is None
    view.clear_overlays()
    assert view.overlays == {}
    assert legend_labels(view.loss_plot) == [
        "train loss (step)",
        "train loss",
        "val loss",
        "learning rate",
    ]
    assert len(view.loss_plot.listDataItems()) == 3  # the rate lives in its own ViewBox


def test_an_overlay_of_another_metric_draws_no_metric_curve(qtbot):
    view = curves(qtbot, metric="val_acc")
    view.overlay("regression", [{"epoch": "1", "step": "10", "val_loss": "0.5", "val_mae": "0.3"}])
    assert view.overlays["regression"].metric_item is None
    assert data(view.overlays["regression"].items["val_loss"]) == ([10], [0.5])
    assert "train_loss" not in view.overlays["regression"].items  # a column it lacks


def test_a_metrics_file_a_kill_cut_short_overlays_its_complete_rows(real_run, tmp_path):
    _, run_dir = real_run
    real = run_dir / "metrics.csv"
    cut = tmp_path / "metrics.csv"
    cut.write_text(
        real.read_text() + "3,18,nan,,0.5,0.01,1.0,2\n4,24,0.1", encoding="utf-8"
    )  # a NaN, an empty cell, a last row a kill cut short
    rows = read_metrics_csv(cut)
    assert len(rows) == 3 and rows[2]["step"] == 18
    assert rows[2]["val_loss"] is None and math.isnan(rows[2]["train_loss"])


def test_importing_the_curves_loads_no_torch():
    code = (
        "import sys, builder.gui.train.curves_view, builder.gui.train.confusion_view; "
        "assert 'torch' not in sys.modules, 'torch was imported'; "
        "import pyqtgraph; assert pyqtgraph.Qt.QT_LIB == 'PySide6'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**_environ(), "PYQTGRAPH_QT_LIB": "PyQt5"},
    )
    assert done.returncode == 0, done.stderr


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_curves_follow_the_apps_theme(qtbot, real_run, tmp_path, theme):
    events, run_dir = real_run
    view = curves(qtbot)
    view.overlay("earlier", read_metrics_csv(run_dir / "metrics.csv"))
    feed(qtbot, view, events)
    dark = theme == "dark"
    for name in ("light" if dark else "dark", theme):  # a real switch, both ways
        apply_to_application(name)
        # Qt delivers the new palette to each widget as a posted PaletteChange
        qtbot.waitUntil(lambda n=name: is_dark(view.palette()) == (n == "dark"), timeout=2000)
    background = view.loss_widget.backgroundBrush().color()
    text = view.loss_plot.getAxis("left").textPen().color()
    assert (background.lightness() < 100) == dark
    assert abs(text.lightness() - background.lightness()) > 120  # the labels stand out
    picture = view.grab().toImage()
    corner = picture.pixelColor(picture.width() // 2, 3)
    assert (corner.lightness() < 100) == dark  # painted, not only configured
    legend_text = view.loss_plot.legend.items[0][1].opts["color"]
    assert abs(legend_text.lightness() - background.lightness()) > 120
    assert picture.save(str(tmp_path / f"curves_{theme}.png"))
