"""`torchcanvas app` and the reasons the desktop app cannot open, said before Qt aborts."""

from __future__ import annotations

import ctypes.util

from builder import demo
from builder.cli import main


def test_app_refuses_to_open_without_a_screen(capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(demo.sys, "platform", "linux")
    assert main(["app"]) == 2
    assert "cannot open the desktop app: no display" in capsys.readouterr().err
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["app"]) == 2
    assert "QT_QPA_PLATFORM=offscreen" in capsys.readouterr().err


def test_missing_x11_libraries_name_their_packages(monkeypatch):
    present = set(demo.QT_X11_LIBRARIES) - {"xcb-cursor", "xcb-icccm"}
    monkeypatch.setattr(ctypes.util, "find_library",
                        lambda name: f"lib{name}.so" if name in present else None)
    assert demo.missing_x11_packages() == ["libxcb-cursor0", "libxcb-icccm4"]
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(demo, "display_missing", lambda: None)
    monkeypatch.setattr(demo.sys, "platform", "linux")
    reason = demo.why_headless()
    assert reason and "apt-get install libxcb-cursor0 libxcb-icccm4" in reason
