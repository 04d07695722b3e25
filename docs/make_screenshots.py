"""Render the screenshots in docs/ from the examples (offscreen, with throwaway settings).

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from builder.gui.app import Windows  # noqa: E402
from builder.gui.project_document import ProjectDocument  # noqa: E402
from graph_schema import load_project  # noqa: E402

# (output, example, theme, what to select, which right-hand tab to show)
SHOTS = [
    ("main-resnet18.png", "resnet18.json", "light", "bn1", "Inspector"),
    ("main-lenet-code.png", "lenet.json", "light", "c3", "Code"),
    ("main-broken-dark.png", "broken/wrong_in_channels.json", "dark", "conv2", "Inspector"),
]


def settle(app: QApplication) -> None:
    """Let layouts, and the panels' debounced refreshes (code, summary), finish."""
    for _ in range(30):
        app.processEvents()
    QTest.qWait(700)


def shoot(app: QApplication, name: str, example: str, theme: str, select: str,
          tab: str) -> None:
    path = ROOT / "examples" / example
    window = Windows().new_window(ProjectDocument(load_project(path), path))
    window.set_theme(theme)
    window.resize(1500, 940)
    window.show()
    settle(app)
    view = window.current_view()
    node = next(n.id for n in window.doc.graph(window.current_key()).nodes if n.name == select)
    view.canvas.select_nodes([node])
    dock = {"Inspector": "inspector", "Code": "code"}[tab]
    window.docks[dock].raise_()
    settle(app)
    window.grab().save(str(ROOT / "docs" / name))
    window.controller.undo_stack.setClean()
    window.close()
    print(f"wrote docs/{name}")


def shoot_block(app: QApplication, name: str, example: str, block: str, theme: str) -> None:
    """A block's own tab, as the user sees it when they open it (its skip edge included)."""
    path = ROOT / "examples" / example
    window = Windows().new_window(ProjectDocument(load_project(path), path))
    window.set_theme(theme)
    window.resize(1500, 940)
    window.show()
    window.tabs.open_graph(("block", block))
    settle(app)
    window.grab().save(str(ROOT / "docs" / name))
    window.close()
    print(f"wrote docs/{name}")


def shoot_large(app: QApplication, name: str, size: int) -> None:
    """A large network fitted to the window: the minimap, and the names and shapes that
    stay legible far out."""
    from bench.bench_gui import laid_out_project

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"residual_{size}.json"
        laid_out_project(size, path)
        window = Windows().new_window(ProjectDocument(load_project(path), path))
        window.set_theme("light")
        window.resize(1500, 940)
        window.show()
        settle(app)
        window.current_view().fit()
        settle(app)
        window.grab().save(str(ROOT / "docs" / name))
        window.close()
    print(f"wrote docs/{name}")


def wait_until(app: QApplication, done, seconds: float = 240.0) -> None:
    """Let the app run (a child training, its events arriving) until ``done()``."""
    for _ in range(int(seconds * 10)):
        if done():
            return
        QTest.qWait(100)
    raise TimeoutError("the run shown in the screenshot did not get there in time")


def shoot_train(app: QApplication, during: str, after: str) -> None:
    """The Train panel on digits_cnn, widened: its live curves while the run goes, then the
    confusion matrix and misclassified digits when it has finished."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "digits_cnn.json"  # its runs go beside it, not into examples/
        path.write_bytes((ROOT / "examples" / "digits_cnn.json").read_bytes())
        window = Windows().new_window(ProjectDocument(load_project(path), path))
        window.set_theme("light")
        window.resize(1500, 940)
        window.show()
        dock = window.docks["train"]
        dock.raise_()
        window.resizeDocks([dock], [760], Qt.Orientation.Horizontal)
        panel = window.train
        panel.extra_args = ["--max-epochs", "6", "--log-every-n-steps", "1"]
        epochs = []
        panel.event_received.connect(lambda e: e.get("event") == "epoch" and epochs.append(e))
        finished = []
        panel.run_finished.connect(lambda *args: finished.append(args))
        panel.start()
        wait_until(app, lambda: len(epochs) >= 3)
        settle(app)
        window.grab().save(str(ROOT / "docs" / during))
        print(f"wrote docs/{during}")
        wait_until(app, lambda: finished)
        panel.views.setCurrentWidget(panel.run_views.result)
        settle(app)
        window.grab().save(str(ROOT / "docs" / after))
        window.close()
    print(f"wrote docs/{after}")


def main() -> int:
    with tempfile.TemporaryDirectory() as settings_dir:
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_dir)
        QCoreApplication.setOrganizationName("TorchCanvasScreenshots")
        QCoreApplication.setApplicationName("TorchCanvasScreenshots")
        app = QApplication.instance() or QApplication([])
        for shot in SHOTS:
            shoot(app, *shot)
        shoot_block(app, "canvas-basicblock.png", "resnet18.json", "BasicBlock", "light")
        shoot_block(app, "canvas-basicblock-dark.png", "resnet18.json", "BasicBlock", "dark")
        shoot_large(app, "canvas-500-fit.png", 500)
        shoot_train(app, "train-during.png", "train-after.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
