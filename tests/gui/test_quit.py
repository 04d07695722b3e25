"""The app quits cleanly: a child process opens a window, copies layers, quits, and its exit
code is checked (a crash on quit is a segfault, exit 139, after every test has passed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SESSION = """
import sys
from PySide6.QtCore import QTimer
from builder.gui.app import Windows, application
from builder.gui.clipboard import FRAGMENT_MIME, copy_selection
from builder.gui.project_document import ProjectDocument
from graph_schema import load_project

app = application()
from pathlib import Path
path = Path("examples/lenet.json")
window = Windows().new_window(ProjectDocument(load_project(path), path))
window.show()

def copy_and_quit():
    window.select_all()
    assert copy_selection(window.current_view())
    assert app.clipboard().mimeData().hasFormat(FRAGMENT_MIME)
    window.close()
    app.quit()

QTimer.singleShot(0, copy_and_quit)
sys.exit(app.exec())
"""


def test_copy_then_quit_exits_0(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-c", SESSION], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
