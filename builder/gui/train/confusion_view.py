"""A finished classification run's confusion matrix and a strip of its misclassified samples.

``show_run(run_dir)`` reads confusion.json and misclassified.json (confusion_files.py has the
format). The heading says which split and weights the matrix scores and the overall accuracy;
the strip shows each sample's picture with "true 3 → predicted 8 (71%)". A missing or
malformed file is one line in the widget where its part would be, never an exception: the
matrix can show while the strip says why it cannot, and the other way round.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from builder.gui.theme import error_text_color
from builder.gui.train.confusion_chart import ConfusionChart
from builder.gui.train.confusion_files import (
    Confusion,
    Misclassified,
    RunFileError,
    read_confusion,
    read_misclassified,
)

MAX_SAMPLES = 48  # the runner saves "a few"; a longer list would only be scrolled past
THUMBNAIL = 72  # px
CAPTION_WIDTH = 140  # px: "true 3 → predicted 8" on one line, the confidence under it


class ConfusionView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.confusion: Confusion | None = None
        self.samples: list[Misclassified] = []
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.chart = ConfusionChart()
        self.strip_heading = QLabel()
        self.strip = QWidget()
        self._strip_layout = QHBoxLayout(self.strip)
        self._strip_layout.setContentsMargins(0, 0, 0, 0)
        self._strip_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.strip)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.strip_scroll = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.strip_heading)
        layout.addWidget(scroll)
        self.clear()

    @property
    def sample_cards(self) -> list[QWidget]:
        return [
            self._strip_layout.itemAt(i).widget()
            for i in range(self._strip_layout.count())
            if self._strip_layout.itemAt(i).widget() is not None
        ]

    def clear(self) -> None:
        self.confusion = None
        self.samples = []
        self.chart.set_confusion(None)
        self.chart.hide()
        self._say(self.heading, "No finished classification run to show.", error=False)
        self._fill_strip([])
        self.strip_heading.hide()
        self.strip_scroll.hide()

    def show_run(self, run_dir: Path) -> None:
        self.clear()
        run_dir = Path(run_dir)
        try:
            self.confusion = read_confusion(run_dir)
        except RunFileError as err:
            self._say(self.heading, f"No confusion matrix: {err}", error=True)
        else:
            self._say(self.heading, _heading(self.confusion), error=False)
            self.chart.set_confusion(self.confusion)
            self.chart.show()
        self.strip_heading.show()
        class_count = len(self.confusion.classes) if self.confusion else None
        try:
            self.samples = read_misclassified(run_dir, class_count)
        except RunFileError as err:
            self._say(self.strip_heading, f"No misclassified samples: {err}", error=True)
            return
        self._fill_strip(self.samples[:MAX_SAMPLES])
        self.strip_scroll.setVisible(bool(self.samples))
        self._say(self.strip_heading, _strip_heading(len(self.samples)), error=False)

    # -- parts ---------------------------------------------------------------------------

    def _fill_strip(self, samples: list[Misclassified]) -> None:
        for card in self.sample_cards:
            self._strip_layout.removeWidget(card)
            card.deleteLater()
        for position, sample in enumerate(samples):
            self._strip_layout.insertWidget(position, _card(sample, self._class_name))
        height = THUMBNAIL + 48 if samples else 0
        self.strip_scroll.setFixedHeight(
            height + self.strip_scroll.horizontalScrollBar().sizeHint().height()
        )

    def _class_name(self, index: int) -> str:
        return self.confusion.class_name(index) if self.confusion else str(index)

    @staticmethod
    def _say(label: QLabel, text: str, *, error: bool) -> None:
        label.setText(text)
        label.setStyleSheet(f"color: {error_text_color()};" if error else "")


def _heading(confusion: Confusion) -> str:
    split = {"val": "validation", "test": "test", "train": "training"}.get(
        confusion.split, confusion.split
    )
    parts = [
        f"{split} set" if split else "",
        f"{confusion.weights} weights" if confusion.weights else "",
    ]
    scope = " · ".join(p for p in parts if p)
    accuracy = confusion.accuracy
    score = (
        f"accuracy {accuracy:.1%} ({confusion.correct:,} of {confusion.total:,})"
        if accuracy is not None
        else "no samples counted"
    )
    return f"{scope[:1].upper()}{scope[1:]} · {score}" if scope else score.capitalize()


def _strip_heading(count: int) -> str:
    if not count:
        return "No misclassified samples saved."
    shown = f", showing {MAX_SAMPLES}" if count > MAX_SAMPLES else ""
    return f"Misclassified samples ({count}{shown}):"


def _card(sample: Misclassified, class_name) -> QWidget:
    card = QFrame()
    card.setFrameShape(QFrame.Shape.StyledPanel)
    layout = QVBoxLayout(card)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.setSpacing(2)
    picture = QLabel()
    picture.setFixedSize(THUMBNAIL, THUMBNAIL)
    picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
    pixmap = QPixmap(str(sample.image)) if sample.image is not None else QPixmap()
    if pixmap.isNull():
        picture.setText("no image" if sample.image is None else "image\nmissing")
        picture.setEnabled(False)
    else:
        picture.setPixmap(_thumbnail(pixmap))
    confidence = f" ({sample.confidence:.0%})" if sample.confidence is not None else ""
    caption = QLabel(
        f"true {class_name(sample.label)} → predicted {class_name(sample.predicted)}{confidence}"
    )
    caption.setWordWrap(True)
    caption.setFixedWidth(CAPTION_WIDTH)
    caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    card.setToolTip(f"sample {sample.index}")
    layout.addWidget(picture, 0, Qt.AlignmentFlag.AlignHCenter)
    layout.addWidget(caption)
    return card


def _thumbnail(pixmap: QPixmap) -> QPixmap:
    """Scaled to the thumbnail: small images (8x8 digits, 28x28 MNIST) blown up with crisp
    pixels, large photos scaled down smoothly."""
    enlarging = max(pixmap.width(), pixmap.height()) < THUMBNAIL
    mode = (
        Qt.TransformationMode.FastTransformation
        if enlarging
        else Qt.TransformationMode.SmoothTransformation
    )
    return pixmap.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio, mode)
