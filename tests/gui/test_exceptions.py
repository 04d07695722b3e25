"""An exception where Qt calls Python fails the GUI test that caused it, as a reported test
failure and not as a crash of the test process: a child pytest runs tests that raise in a
command's redo, in an undo that the Ctrl+Z shortcut starts from C++, in a slot, and in a
``__del__``, with tests/gui/conftest.py as its plugin, and its report is read back (a
test may not turn the capture off either)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD_TESTS = """
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from builder.gui import commands
from tests.gui.windows import open_window


def planted(self):
    raise RuntimeError("planted failure")


def conv_of(window):
    key = window.current_key()
    return key, next(n.id for n in window.doc.graph(key).nodes if n.type == "nn.Conv2d")


def test_redo_raises(qtbot, monkeypatch):
    window = open_window(qtbot, "digits_cnn.json")
    key, conv = conv_of(window)
    monkeypatch.setattr(commands.UpdateNode, "redo", planted)
    window.controller.set_param(key, conv, "out_channels", 5)


def test_undo_from_the_shortcut_raises(qtbot, monkeypatch):
    window = open_window(qtbot, "digits_cnn.json", active=True)
    key, conv = conv_of(window)
    window.controller.set_param(key, conv, "out_channels", 5)
    monkeypatch.setattr(commands.UpdateNode, "undo", planted)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_slot_raises(qtbot):
    window = open_window(qtbot, "digits_cnn.json")
    key, conv = conv_of(window)
    window.doc.node_changed.connect(lambda *_: planted(None))
    window.controller.set_param(key, conv, "out_channels", 5)


class Doomed:
    def __del__(self):
        raise RuntimeError("planted failure in __del__")


def test_unraisable_raises(qtbot):
    doomed = Doomed()
    del doomed


@pytest.mark.qt_no_exception_capture
def test_capture_turned_off(qtbot):
    pass


def test_a_command_that_works_passes(qtbot):
    window = open_window(qtbot, "digits_cnn.json", active=True)
    key, conv = conv_of(window)
    before = window.doc.node(key, conv).params["out_channels"]
    window.controller.set_param(key, conv, "out_channels", before + 1)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.doc.node(key, conv).params["out_channels"] == before
"""


def test_exceptions_in_qt_callbacks_fail_their_test_without_a_crash(tmp_path):
    (tmp_path / "test_child.py").write_text(CHILD_TESTS)
    report = tmp_path / "report.xml"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.gui.conftest", "-p", "no:cacheprovider",
         "-q", f"--junitxml={report}", "test_child.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 1, (done.returncode, output[-3000:])  # "tests failed", not 139
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problems = case.findall("failure") + case.findall("error")
        outcomes[case.get("name")] = " ".join((p.get("message") or "") + (p.text or "")
                                              for p in problems)
    assert set(outcomes) == {"test_redo_raises", "test_undo_from_the_shortcut_raises",
                             "test_slot_raises", "test_unraisable_raises",
                             "test_capture_turned_off", "test_a_command_that_works_passes"}, \
        output[-3000:]
    assert outcomes.pop("test_a_command_that_works_passes") == ""
    assert "keep pytest-qt's exception capture" in outcomes.pop("test_capture_turned_off")
    for name, problem in outcomes.items():
        assert "planted failure" in problem, (name, output[-3000:])
    assert "redo of 'Set out_channels' raised RuntimeError" in outcomes["test_redo_raises"]
    assert "undo of 'Set out_channels' raised RuntimeError" in \
        outcomes["test_undo_from_the_shortcut_raises"]
