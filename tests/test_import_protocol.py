"""What the processes of an import say to each other (builder/import_protocol.py): the
worker's progress lines, the command's relayed ones, and what the app shows of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from builder import import_protocol as protocol

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_a_stage_goes_from_the_worker_through_the_command_to_the_app():
    line = protocol.progress_line("building the model")
    relayed = protocol.relayed(line)
    assert relayed == "torchcanvas import: building the model"
    assert protocol.plain(relayed) == "building the model"
    assert protocol.relayed("a warning the model printed") is None
    assert protocol.plain("torchcanvas: --input 2,x: not a shape") == "--input 2,x: not a shape"


def test_the_worker_started_on_its_own_says_how_it_is_started():
    done = subprocess.run([sys.executable, "-m", "builder.import_worker"], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == protocol.EXIT_UNUSABLE
    assert done.stderr.startswith("usage: python -m builder.import_worker")
    assert "Traceback" not in done.stderr


def test_the_worker_is_started_as_a_module_of_its_own():
    command = protocol.worker_command("request.json")
    assert command[1:] == ["-m", "builder.import_worker", "request.json"]


def test_the_protocol_needs_neither_torch_nor_qt():
    code = ("import sys, builder.import_protocol; "
            "print(any(m in sys.modules for m in ('torch', 'PySide6')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
