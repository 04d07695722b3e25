"""The confusion view, from hand-written run files in the documented format.

The runner's side (writing confusion.json and misclassified.json) is another part of issue 16;
these files follow the format the lead fixed: confusion.json {"split", "weights", "classes",
"matrix" (rows true, columns predicted)}, misclassified.json {"samples": [{"index", "label",
"predicted", "confidence", "image" (relative to the run folder, or null)}]}.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QLabel, QToolTip

from builder.gui.theme import apply_to_application
from builder.gui.train.confusion_view import MAX_SAMPLES, ConfusionView

DIGITS = [str(d) for d in range(10)]


def ten_class_matrix() -> list[list[int]]:
    """18 samples a class; 3 is mistaken for 8 five times, 9 for 4 three times, 1 for 7 once."""
    matrix = [[18 if i == j else 0 for j in range(10)] for i in range(10)]
    matrix[3][3], matrix[3][8] = 13, 5
    matrix[9][9], matrix[9][4] = 15, 3
    matrix[1][1], matrix[1][7] = 17, 1
    return matrix


def write_run(run_dir: Path, *, classes=None, matrix=None, samples=None, images=True) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    classes = DIGITS if classes is None else classes
    (run_dir / "confusion.json").write_text(
        json.dumps(
            {
                "split": "val",
                "weights": "best",
                "classes": classes,
                "matrix": ten_class_matrix() if matrix is None else matrix,
            }
        ),
        encoding="utf-8",
    )
    if samples is None:
        samples = [
            {
                "index": 40 + k,
                "label": label,
                "predicted": predicted,
                "confidence": confidence,
                "image": f"misclassified/{k}.png",
            }
            for k, (label, predicted, confidence) in enumerate(
                [(3, 8, 0.71), (9, 4, 0.55), (3, 8, 0.93), (1, 7, 0.4)]
            )
        ]
    if images:
        (run_dir / "misclassified").mkdir(exist_ok=True)
        for k, sample in enumerate(samples):
            digit_image(sample["label"]).save(str(run_dir / "misclassified" / f"{k}.png"))
    (run_dir / "misclassified.json").write_text(json.dumps({"samples": samples}), encoding="utf-8")
    return run_dir


@functools.cache
def digit_image(digit: int) -> QImage:
    """The first of scikit-learn's 8x8 digits with this label, as the runner would save it."""
    from sklearn.datasets import load_digits

    data = load_digits()
    pixels = data.images[list(data.target).index(digit)]
    image = QImage(8, 8, QImage.Format.Format_Grayscale8)
    for y in range(8):
        for x in range(8):
            image.setPixel(x, y, int(255 - pixels[y, x] * 255 / 16) * 0x010101)
    return image


def view_of(qtbot, run_dir: Path | None = None) -> ConfusionView:
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(560, 640)
    view.show()
    if run_dir is not None:
        view.show_run(run_dir)
    return view


def captions(view: ConfusionView) -> list[str]:
    return [card.findChildren(QLabel)[1].text() for card in view.sample_cards]


def test_a_ten_class_run_shows_its_matrix_accuracy_and_mistakes(qtbot, tmp_path):
    view = view_of(qtbot, write_run(tmp_path / "run"))
    assert view.heading.text() == "Validation set · best weights · accuracy 95.0% (171 of 180)"
    assert view.chart.isVisible()
    assert view.chart.confusion.matrix[3][8] == 5
    assert captions(view) == [
        "true 3 → predicted 8 (71%)",
        "true 9 → predicted 4 (55%)",
        "true 3 → predicted 8 (93%)",
        "true 1 → predicted 7 (40%)",
    ]
    picture = view.sample_cards[0].findChildren(QLabel)[0].pixmap()
    assert not picture.isNull() and picture.width() == 72  # an 8x8 digit, blown up
    assert view.strip_heading.text() == "Misclassified samples (4):"
    assert view.grab().save(str(tmp_path / "confusion_10.png"))


def test_cells_are_coloured_by_their_share_of_the_true_class(qtbot, tmp_path):
    view = view_of(qtbot, write_run(tmp_path / "run"))
    chart = view.chart
    image = chart.grab().toImage()

    def color(row, column):  # a corner of the cell, clear of its count
        rect = chart.cell_rect(row, column)
        return image.pixelColor(rect.left() + 2, rect.top() + 2)

    right, wrong, empty = color(0, 0), color(3, 8), color(0, 5)
    assert right.blue() > right.red() + 60  # all of class 0 right: strong blue
    assert wrong.red() > wrong.blue() + 60  # 5 of 18 threes called 8: red
    assert color(9, 4).red() < wrong.red() or color(9, 4).green() > wrong.green()  # 3 < 5
    assert empty.red() == empty.green() == empty.blue()  # nothing there: no colour


def test_a_cells_tooltip_names_both_classes_and_the_count(qtbot, tmp_path):
    view = view_of(qtbot, write_run(tmp_path / "run", classes=[f"class {c}" for c in DIGITS]))
    chart = view.chart
    centre = chart.cell_rect(3, 8).center()
    assert chart.cell_at(centre) == (3, 8)
    QApplication.sendEvent(
        chart, QHelpEvent(QEvent.Type.ToolTip, centre, chart.mapToGlobal(centre))
    )
    assert QToolTip.text() == "true class 3, predicted class 8: 5 (27.8% of true class 3)"
    assert chart.cell_at(QPoint(1, 1)) is None  # the margin is no cell
    assert captions(view)[0] == "true class 3 → predicted class 8 (71%)"


def test_a_hundred_classes_fit_the_view(qtbot, tmp_path):
    classes = [f"c{k:02d}" for k in range(100)]
    matrix = [
        [(7 if i == j else (1 if (i + j) % 17 == 0 else 0)) for j in range(100)] for i in range(100)
    ]
    view = view_of(qtbot, write_run(tmp_path / "run", classes=classes, matrix=matrix, samples=[]))
    last = view.chart.cell_rect(99, 99)
    assert last.right() <= view.chart.width() and last.bottom() <= view.chart.height()
    assert last.width() >= 3
    assert view.strip_heading.text() == "No misclassified samples saved."
    assert not view.strip_scroll.isVisible()
    assert view.grab().save(str(tmp_path / "confusion_100.png"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "confusion.json is missing from the run folder"),
        (
            "{not json",
            "confusion.json is not valid JSON (line 1, column 2: Expecting property "
            "name enclosed in double quotes)",
        ),
        ([1, 2], "confusion.json must hold a JSON object"),
        (
            {"classes": "0123", "matrix": []},
            "confusion.json: 'classes' must be a list of class names",
        ),
        (
            {"classes": ["a", "b"], "matrix": [[1, 0]]},
            "confusion.json: 'matrix' has 1 rows for 2 classes",
        ),
        ({"classes": ["a", "b"]}, "confusion.json: 'matrix' has no rows for 2 classes"),
        (
            {"classes": ["a", "b"], "matrix": [[1, 0], [2]]},
            "confusion.json: matrix row 1 has 1 counts for 2 classes",
        ),
        (
            {"classes": ["a", "b"], "matrix": [[1, -1], [0, 2]]},
            "confusion.json: matrix row 0 has a count that is not a whole number >= 0",
        ),
        (
            {"classes": ["a", "b"], "matrix": [[1, 0.5], [0, 2]]},
            "confusion.json: matrix row 0 has a count that is not a whole number >= 0",
        ),
    ],
)
def test_a_missing_or_malformed_confusion_file_is_one_line(qtbot, tmp_path, content, message):
    run_dir = write_run(tmp_path / "run")
    path = run_dir / "confusion.json"
    if content is None:
        path.unlink()
    else:
        path.write_text(
            content if isinstance(content, str) else json.dumps(content), encoding="utf-8"
        )
    view = view_of(qtbot, run_dir)
    assert view.heading.text() == f"No confusion matrix: {message}"
    assert "\n" not in view.heading.text()
    assert not view.chart.isVisible()
    assert view.confusion is None
    assert "color" in view.heading.styleSheet()  # said as an error
    assert len(view.sample_cards) == 4  # the samples still show, named by number


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        ({"samples": [{"index": 1, "label": 3}]}, "sample 0 has no whole-number 'predicted'"),
        (
            {"samples": [{"index": 1, "label": 3, "predicted": 12}]},
            "sample 0: 'predicted' 12 is not one of the 10 classes",
        ),
        (
            {"samples": [{"index": 1, "label": 3, "predicted": 8, "image": "../../etc/passwd"}]},
            "sample 0: image '../../etc/passwd' is outside the run folder",
        ),
        (
            {"samples": [{"index": 1, "label": 3, "predicted": 8, "image": 7}]},
            "sample 0: 'image' must be a path or null",
        ),
        ({"samples": {"index": 1}}, "'samples' must be a list"),
        ({"samples": ["x"]}, "sample 0 is not an object"),
    ],
)
def test_a_malformed_misclassified_file_is_one_line_under_the_matrix(
    qtbot, tmp_path, samples, message
):
    run_dir = write_run(tmp_path / "run")
    (run_dir / "misclassified.json").write_text(json.dumps(samples), encoding="utf-8")
    view = view_of(qtbot, run_dir)
    assert view.chart.isVisible()  # the matrix is fine
    assert view.strip_heading.text() == f"No misclassified samples: misclassified.json: {message}"
    assert view.sample_cards == []


def test_missing_images_and_files_leave_the_rest_shown(qtbot, tmp_path):
    samples = [
        {"index": 1, "label": 3, "predicted": 8, "confidence": 0.5, "image": None},
        {
            "index": 2,
            "label": 2,
            "predicted": 5,
            "confidence": None,
            "image": "misclassified/gone.png",
        },
        {"index": 3, "label": 2, "predicted": 5, "confidence": 7.0, "image": None},
    ]
    run_dir = write_run(tmp_path / "run", samples=samples, images=False)
    view = view_of(qtbot, run_dir)
    pictures = [card.findChildren(QLabel)[0].text() for card in view.sample_cards]
    assert pictures == ["no image", "image\nmissing", "no image"]
    assert captions(view)[1:] == ["true 2 → predicted 5", "true 2 → predicted 5"]  # no %
    (run_dir / "misclassified.json").unlink()
    view.show_run(run_dir)
    assert view.chart.isVisible()
    assert view.strip_heading.text() == (
        "No misclassified samples: misclassified.json is missing from the run folder"
    )


def test_showing_another_run_and_clearing_replace_what_was_shown(qtbot, tmp_path):
    many = [
        {"index": k, "label": 3, "predicted": 8, "confidence": 0.6, "image": None}
        for k in range(MAX_SAMPLES + 5)
    ]
    view = view_of(qtbot, write_run(tmp_path / "a"))
    view.show_run(write_run(tmp_path / "b", samples=many, images=False))
    assert len(view.sample_cards) == MAX_SAMPLES
    assert (
        view.strip_heading.text() == f"Misclassified samples ({MAX_SAMPLES + 5}, showing "
        f"{MAX_SAMPLES}):"
    )
    view.clear()
    assert view.sample_cards == [] and view.confusion is None
    assert not view.chart.isVisible() and not view.strip_heading.isVisible()
    assert view.heading.text() == "No finished classification run to show."
    view.show_run(tmp_path / "nowhere")
    assert (
        view.heading.text() == "No confusion matrix: confusion.json is missing from the run folder"
    )


def test_the_matrix_is_readable_in_the_dark_theme(qtbot, tmp_path):
    view = view_of(qtbot, write_run(tmp_path / "run"))
    apply_to_application("dark")
    qtbot.waitUntil(
        lambda: view.palette().color(view.palette().ColorRole.Window).lightness() < 128,
        timeout=2000,
    )
    chart = view.chart
    image = chart.grab().toImage()
    empty = chart.cell_rect(0, 5)
    assert image.pixelColor(empty.left() + 2, empty.top() + 2).lightness() < 80
    right = chart.cell_rect(0, 0)
    assert image.pixelColor(right.left() + 2, right.top() + 2).blue() > 150
    assert view.grab().save(str(tmp_path / "confusion_dark.png"))
