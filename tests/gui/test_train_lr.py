"""The learning-rate finder's view, fed the progress lines of `torchcanvas lr-find
--json-progress` (written out here in that format): the live curve on a log axis, the smoothed
curve and the suggestion at the end, and the button that hands the suggestion on."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from builder.gui.theme import apply_to_application
from builder.gui.train.lr_view import LrFindView

STEPS = 40
LRS = [1e-7 * (10 / 1e-7) ** (i / (STEPS - 1)) for i in range(STEPS)]
# Flat, then falling fast around 1e-3, then diverging; the last step's loss was NaN (null).
LOSSES = [2.3 - 2.0 / (1 + math.exp(-(math.log10(lr) + 3) * 3)) for lr in LRS[:30]]
LOSSES += [0.4 * 2**k for k in range(1, 10)] + [None]
SMOOTHED = [2.3 - 1.9 / (1 + math.exp(-(math.log10(lr) + 3) * 2.5)) for lr in LRS[:30]]
SMOOTHED += [0.5 * 1.5**k for k in range(1, 10)]
SUGGESTED = 0.0032


def steps(count: int = STEPS):
    return [
        {"event": "lr_step", "step": i + 1, "lr": LRS[i], "loss": LOSSES[i]} for i in range(count)
    ]


def result(suggested=SUGGESTED, count: int = STEPS - 1, stopped_early=True):
    """The runner's lr_find line: the lists hold the steps before the NaN one."""
    return {
        "event": "lr_find",
        "suggested_lr": suggested,
        "lrs": LRS[:count],
        "losses": LOSSES[:count],
        "smoothed": SMOOTHED[:count],
        "folder": "runs/lr-find-digits_cnn-20250101-120000",
        "stopped_early": stopped_early,
    }


@pytest.fixture
def lr_view(qtbot) -> LrFindView:
    view = LrFindView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    return view


def data(curve) -> tuple[list[float], list[float]]:
    xs, ys = curve.getOriginalDataset()  # before the log axis transforms x
    return ([] if xs is None else list(xs)), ([] if ys is None else list(ys))


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y) for x, y in zip(a, b)
    )


def feed(view, events) -> None:
    for event in events:
        view.add_event(event)


def test_reset_shows_an_empty_plot_and_no_suggestion(lr_view):
    assert data(lr_view.raw_curve) == ([], []) and data(lr_view.smooth_curve) == ([], [])
    assert not lr_view.use_button.isEnabled()
    assert lr_view.use_button.text() == "Use this learning rate"
    assert not lr_view.marker.isVisible()
    assert lr_view.plot.getPlotItem().getAxis("bottom").logMode


def test_the_curve_grows_step_by_step_with_nan_as_a_gap(lr_view):
    feed(lr_view, steps(10))
    xs, ys = data(lr_view.raw_curve)
    assert same(xs, LRS[:10]) and same(ys, LOSSES[:10])
    assert lr_view.status.text() == f"Sweeping: step 10: lr {LRS[9]:.1e}, loss {LOSSES[9]:.4g}"
    feed(lr_view, steps()[10:])
    xs, ys = data(lr_view.raw_curve)
    assert len(xs) == STEPS and math.isnan(ys[-1])  # the null loss
    assert lr_view.status.text().endswith("loss not finite")
    assert not lr_view.use_button.isEnabled()  # nothing to use before the end


def test_the_end_draws_the_smoothed_curve_marks_the_suggestion_and_offers_it(qtbot, lr_view):
    feed(lr_view, steps())
    lr_view.add_event(result())
    assert same(data(lr_view.smooth_curve)[1], SMOOTHED[: STEPS - 1])
    assert same(data(lr_view.raw_curve)[0], LRS[: STEPS - 1])  # the runner's final lists
    assert lr_view.marker.isVisible()
    assert math.isclose(lr_view.marker.value(), math.log10(SUGGESTED))  # the axis is log10
    assert lr_view.marker.label.toPlainText() == "suggested 3.2e-03"
    button = lr_view.use_button
    assert button.isEnabled() and button.text() == "Use this learning rate (3.2e-03)"
    assert "Suggested learning rate 3.2e-03" in lr_view.status.text()
    assert "runs/lr-find-digits_cnn-20250101-120000" in lr_view.status.text()
    with qtbot.waitSignal(lr_view.lr_chosen) as chosen:
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert chosen.args == [SUGGESTED]


def test_the_diverging_tail_does_not_squash_the_curve(lr_view):
    feed(lr_view, steps())
    lr_view.add_event(result())
    low, high = lr_view.plot.getPlotItem().viewRange()[1]
    assert math.isclose(high, 1.5 * SMOOTHED[0])  # not the tail's 128-fold loss
    assert low < min(SMOOTHED)


def test_no_suggestion_says_why_and_the_button_stays_off(qtbot, lr_view):
    feed(lr_view, steps(2))
    lr_view.add_event(result(suggested=None, count=2))
    assert not lr_view.use_button.isEnabled() and not lr_view.marker.isVisible()
    assert lr_view.status.text().startswith(
        "No suggestion: the sweep took only 2 step(s) before the loss became NaN or infinite"
    )
    with qtbot.assertNotEmitted(lr_view.lr_chosen):
        QTest.mouseClick(lr_view.use_button, Qt.MouseButton.LeftButton)

    lr_view.reset()
    flat = {**result(suggested=None, stopped_early=False), "smoothed": [2.3] * (STEPS - 1)}
    lr_view.add_event(flat)
    assert lr_view.status.text().startswith("No suggestion: the loss never fell during the sweep")


def test_a_suggestion_is_replaced_by_the_next_sweep(lr_view):
    lr_view.add_event(result())
    assert lr_view.use_button.isEnabled()
    lr_view.reset()
    assert lr_view.suggested_lr is None and not lr_view.use_button.isEnabled()
    assert data(lr_view.smooth_curve) == ([], []) and not lr_view.marker.isVisible()
    lr_view.add_event(result(suggested=0.01))
    assert lr_view.use_button.text() == "Use this learning rate (1.0e-02)"


def test_malformed_and_unknown_lines_are_ignored(lr_view):
    lines = [
        {"event": "step", "step": 1, "loss": 2.0, "lr": 1e-3},  # train's, not lr-find's
        {"event": "lr_step", "step": 1, "lr": 0.0, "loss": 2.0},  # no place on a log axis
        {"event": "lr_step", "step": 2, "lr": None, "loss": 2.0},
        {"event": "lr_find", "suggested_lr": -1, "lrs": "many", "smoothed": None},
        "not a dict",
    ]
    feed(lr_view, lines)
    assert data(lr_view.raw_curve) == ([], [])
    assert lr_view.suggested_lr is None and not lr_view.use_button.isEnabled()


def test_screenshot(lr_view, tmp_path):
    feed(lr_view, steps())
    lr_view.add_event(result())
    path = tmp_path / "lr_find.png"
    QApplication.sendPostedEvents()  # the layout's pending update, as the event loop would
    assert lr_view.grab().save(str(path))
    assert path.stat().st_size > 5_000


def test_the_plot_follows_the_dark_theme(qapp, lr_view, tmp_path):
    feed(lr_view, steps())
    lr_view.add_event(result())
    light = lr_view.plot.backgroundBrush().color()
    apply_to_application("dark")  # tests/gui/conftest.py puts the look back afterwards
    QApplication.sendPostedEvents()
    base = qapp.palette().color(QPalette.ColorRole.Base)
    assert base.lightness() < 128 and base != light
    assert lr_view.plot.backgroundBrush().color() == base
    axis = lr_view.plot.getPlotItem().getAxis("left")
    text = qapp.palette().color(QPalette.ColorRole.Text)
    assert axis.textPen().color() == text
    legend = [label for _sample, label in lr_view.plot.legend.items]
    assert [label.text for label in legend] == ["loss", "smoothed loss"]
    assert all(f"color:{text.name()}" in label.item.toHtml().replace(" ", "") for label in legend)
    assert lr_view.grab().save(str(tmp_path / "lr_find_dark.png"))
