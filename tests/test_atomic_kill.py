"""A process killed while writing leaves the previous file whole: project saves, autosave and
generated code, each killed with a real SIGKILL in the middle of a large write.

"In the middle" is checked, not hoped for: the writer (graph_schema.files.atomic_write_bytes)
writes to ``.<name>.<pid>.<random>.tmp`` beside the target and renames it over at the end, so a
temporary file still there after the kill proves the writer died before the rename.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from builder.gui.autosave import read_recovery
from graph_schema.document import Network, Project
from graph_schema.files import load_project, save_project
from tests.graphs import chain_edges, node

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0  # seconds, for every single wait; a healthy run needs a fraction of it
ATTEMPTS = 3
# About 11 MB of project JSON. The write takes as long as the bytes; building and dumping
# cost per node, so fewer nodes with long notes give the same write for a fifth of the CPU.
NODES = 2_000
NOTE_CHARS = 5_000

# The child builds two large projects, A and B, once, writes them to reference files and puts
# A at the target (the previous version). Each "go" on stdin forks a worker that saves B, A,
# B, ... over the target, printing a line before each save; the test kills the worker.
# Forking keeps the expensive build to once per test while every kill is still a real
# SIGKILL of the process that is writing.
SAVER = r"""
import itertools, os, shutil, sys, time
from pathlib import Path
from graph_schema.document import Network, Node, Project
from tests.graphs import chain_edges, node

kind, count, note_chars, refs, target = sys.argv[1:]
refs, target = Path(refs), Path(target)
if kind == "project":
    from graph_schema.files import save_project as save
else:
    from builder.gui.autosave import write_recovery

    def save(project, path):
        write_recovery(path, project, refs / "big.json", pid=4242)


def say(*words):  # one write(2) a line: the workers share this pipe, lines must not mix
    os.write(1, (" ".join(map(str, words)) + "\n").encode())


nodes = [node("inp", "io.Input", shape=["N", 8])]
nodes += [Node(id=f"act{i}", type="nn.ReLU", name=f"act{i}", notes="n" * int(note_chars))
          for i in range(int(count))]
nodes.append(node("out", "io.Output"))
net = Network(name="main", nodes=nodes, edges=chain_edges(*(n.id for n in nodes)))
a = Project(name="A", networks=[net])
b = a.model_copy(update={"name": "B"})
start = time.perf_counter()
save(a, refs / "A")
period = time.perf_counter() - start
save(b, refs / "B")
shutil.copyfile(refs / "A", target)  # the previous version
say("ready", period)
for _ in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            for i in itertools.count():
                version = (b, a)[i % 2]
                say("saving", version.name)
                save(version, target)
        finally:
            os._exit(1)
    say("worker", pid)
    os.waitpid(pid, 0)
    say("reaped")
"""


class Lines:
    """A child's stdout, line by line, each read bounded by a timeout."""

    def __init__(self, stream):
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.strip())
        self._queue.put(None)

    def expect(self, word: str) -> list[str]:
        """The words of the next line starting with ``word``; earlier lines are skipped."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, f"the child ended before printing {word!r}"
            if line.split()[:1] == [word]:
                return line.split()

    def join(self) -> None:
        self._thread.join(TIMEOUT)


def temporaries(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.*.tmp"))


def wait_until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.0005)


def kill_saves(tmp_path: Path, kind: str, read: Callable[[Path], object]) -> int:
    """SIGKILL a worker saving over the target, ATTEMPTS times; after every kill the target
    must be one whole version, A or B (as ``read`` sees it). Returns how many kills landed
    mid-write."""
    refs, folder = tmp_path / "refs", tmp_path / "out"
    refs.mkdir()
    folder.mkdir()
    target = folder / "big.json"
    child = subprocess.Popen(
        [sys.executable, "-c", SAVER, kind, str(NODES), str(NOTE_CHARS), str(refs), str(target)],
        cwd=REPO_ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lines = Lines(child.stdout)
    worker = None
    rng = random.Random()
    mid_write = 0
    try:
        period = float(lines.expect("ready")[1])  # how long one save takes
        versions = [read(refs / "A"), read(refs / "B")]
        assert read(target) == versions[0]
        for attempt in range(ATTEMPTS):
            child.stdin.write("go\n")
            child.stdin.flush()
            worker = int(lines.expect("worker")[1])
            lines.expect("saving")
            time.sleep(rng.uniform(0, 1.2 * period))  # anywhere in a save...
            wait_until(lambda: temporaries(target), "a save to start writing")  # ...or its write
            os.kill(worker, signal.SIGKILL)
            worker = None
            lines.expect("reaped")
            litter = temporaries(target)
            mid_write += bool(litter)
            assert read(target) in versions, f"kill {attempt + 1} broke {target.name}"
            for file in litter:  # so that the next attempt waits for a write of its own
                file.unlink()
        whole = load_project(target) if kind == "project" else read_recovery(target).load()
        assert len(whole.networks[0].nodes) == NODES + 2
    finally:
        if worker is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGKILL)
        child.kill()
        child.wait(TIMEOUT)
        lines.join()  # the pipe is at its end once both processes are gone
        child.stdout.close()
        child.stdin.close()
    return mid_write


def read_recovery_project(file: Path) -> dict:
    # Not the bytes: each write stamps its own time (saved_at).
    return read_recovery(file).data


def test_a_killed_project_save_leaves_a_whole_project(tmp_path):
    assert kill_saves(tmp_path, "project", Path.read_bytes) >= 1


def test_a_killed_autosave_leaves_a_whole_recovery_file(tmp_path):
    assert kill_saves(tmp_path, "autosave", read_recovery_project) >= 1


# -- generated code ----------------------------------------------------------------------

OLD_CODE = b"# generated by an earlier run: this must survive a killed generate\n" * 2000


def wide_project(networks: int = 12) -> Project:
    """Small to generate, large to write: every class docstring carries ~320 KB of notes."""
    notes = "A line of notes that goes into the generated docstring.\n" * 2800
    nets = [Network(name=f"net{k}", notes=notes,
                    nodes=[node("inp", "io.Input", shape=["N", 8]), node("act", "nn.ReLU"),
                           node("out", "io.Output")],
                    edges=chain_edges("inp", "act", "out"))
            for k in range(networks)]
    return Project(name="wide", notes=notes, networks=nets)


def generate_accepts_force() -> bool:
    # generate is gaining a rule: an existing OUT.py is kept unless --force says otherwise.
    from builder.cli import build_parser

    text = io.StringIO()
    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):
        build_parser().parse_args(["generate", "--help"])
    return "--force" in text.getvalue()


def test_a_killed_generate_leaves_the_old_code(tmp_path):
    project_file = tmp_path / "wide.json"
    save_project(wide_project(), project_file)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "model.py"
    force = ["--force"] if generate_accepts_force() else []
    for _ in range(3):  # one run is almost always enough; a run that finished first retries
        out.write_bytes(OLD_CODE)
        run = subprocess.Popen(
            [sys.executable, "-m", "builder", "generate", str(project_file), "-o", str(out),
             *force], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_until(lambda run=run: temporaries(out) or run.poll() is not None,
                       "generate to start writing")
            run.send_signal(signal.SIGKILL)
            run.wait(TIMEOUT)
            errors = run.stderr.read().decode()
        finally:
            run.kill()
            run.wait(TIMEOUT)
            run.stderr.close()
        if temporaries(out):  # killed mid-write
            assert out.read_bytes() == OLD_CODE
            break
        # Killed too late (or it finished first): then it must be the whole new module.
        assert run.returncode in (0, -signal.SIGKILL), errors
        code = out.read_text()
        assert code != OLD_CODE.decode()
        compile(code, str(out), "exec")
    else:
        pytest.fail("no generate run was killed while writing, in 3 runs")
