"""The fence around `torchcanvas import`'s worker: whatever the model forks is ended with the
import, however it ends; memory is capped (``--max-memory``) and going over it is said so;
a model that exits or dies is told apart from one that ran out of memory. Real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="process groups and rlimits")

MODELS = textwrap.dedent('''
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import torch
    from torch import nn


    class Forks(nn.Module):
        """Starts a long sleep (its pid and the worker's go to ``pids``), then ends as told."""

        def __init__(self, pids, then="return"):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.then = then
            child = subprocess.Popen(["sleep", "300"])
            Path(pids).write_text(f"{child.pid} {os.getpid()}")

        def forward(self, x):
            if self.then == "raise":
                raise ValueError("this model refuses to run")
            while self.then == "hang":
                time.sleep(0.1)
            return self.fc(x)


    class Big(nn.Module):
        """Asks for 2 GiB in one piece (never touched: costs nothing where it is allowed)."""

        def __init__(self, where="init"):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.where = where
            if where == "init":
                self.buffer = torch.empty(2 << 30, dtype=torch.uint8)

        def forward(self, x):
            if self.where == "forward":
                torch.empty(2 << 30, dtype=torch.uint8)
            if self.where == "bytes":
                bytes(2 << 30)
            return self.fc(x)


    class DiesNearTheCap(nn.Module):
        """Fills memory up to near its cap, then is killed, as the kernel's OOM killer
        would: ``fill`` False is killed at once."""

        def __init__(self, fill=True):
            super().__init__()
            import resource

            cap = resource.getrlimit(resource.RLIMIT_DATA)[0]
            held = []
            try:
                while fill and _resident() < 0.9 * cap:
                    held.append(torch.ones(16 << 20, dtype=torch.uint8))
            except (MemoryError, RuntimeError):
                pass
            os.kill(os.getpid(), signal.SIGKILL)


    def _resident():
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")


    class Exits(nn.Module):
        def __init__(self, where="init"):
            super().__init__()
            self.where = where
            if where == "init":
                sys.exit(3)
            if where == "os":
                os._exit(5)

        def forward(self, x):
            if self.where == "forward":
                sys.exit(3)
            return x
''')


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fence") / "fence.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


def command(spec: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "builder", "import", spec, "--input", "1,4", *args]


def run_cli(spec: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(spec, *args), capture_output=True, text=True, timeout=180)


def verdict(result, code: int = 1) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


# -- what the model forked ends with the import --------------------------------------------
def gone(pid: int, within: float = 15) -> bool:
    """Whether ``pid`` has ended (a zombie no one has reaped yet has ended too)."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (ProcessLookupError, FileNotFoundError):
            return True
        if stat.rpartition(")")[2].split()[0] == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@pytest.fixture
def pids(tmp_path):
    """The file the model writes its grandchild's pid (and the worker's) to; whatever the
    test leaves alive is ended afterwards."""
    path = tmp_path / "pids.txt"
    yield path
    for pid in read_pids(path) if path.exists() else []:
        if not gone(pid, within=0):
            os.kill(pid, signal.SIGKILL)


def read_pids(path: Path) -> list[int]:
    return [int(word) for word in path.read_text().split()]


def wait_for(path: Path, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while not (path.exists() and len(path.read_text().split()) == 2):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.05)


@pytest.mark.parametrize("then, extra, code", [
    ("return", [], 0),
    ("raise", [], 1),
    ("hang", ["--timeout", "15"], 1),
])
def test_what_the_model_forked_ends_with_the_import(models, tmp_path, pids, then, extra, code):
    result = run_cli(f"{models}:Forks", "--kwargs", json.dumps({"pids": str(pids),
                                                                "then": then}),
                     "-o", str(tmp_path / "out.json"), *extra)
    assert result.returncode == code, result.stderr
    grandchild, worker = read_pids(pids)
    assert gone(grandchild) and gone(worker)


@pytest.mark.parametrize("how, code", [("terminate", 143), ("kill", -signal.SIGKILL)])
def test_cancel_or_a_killed_parent_ends_what_the_model_forked(models, tmp_path, pids, how,
                                                              code):
    """Cancel is SIGTERM to `torchcanvas import`; a SIGKILL it cannot see, so the worker's
    own watch notices its parent is gone and ends its whole group."""
    process = subprocess.Popen(command(f"{models}:Forks", "--kwargs",
                                       json.dumps({"pids": str(pids), "then": "hang"}),
                                       "-o", str(tmp_path / "out.json")),
                               stderr=subprocess.DEVNULL)
    wait_for(pids)
    getattr(process, how)()
    assert process.wait(timeout=30) == code
    grandchild, worker = read_pids(pids)
    assert gone(worker) and gone(grandchild)
    assert not (tmp_path / "out.json").exists()


# -- memory ------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["init", "forward", "bytes"])
def test_more_memory_than_the_cap_is_one_clear_line(models, tmp_path, where):
    result = run_cli(f"{models}:Big", "--kwargs", json.dumps({"where": where}),
                     "--max-memory", "1", "-o", str(tmp_path / "out.json"))
    assert verdict(result) == (
        f"torchcanvas import: {models}:Big: the model needed more than 1 GiB of memory (the "
        f"import's limit; raise it with --max-memory)")
    assert not (tmp_path / "out.json").exists()


def test_the_cap_is_what_refuses_it(models, tmp_path):
    """Under a larger cap the same model imports, and a small cap still lets torch load."""
    big = run_cli(f"{models}:Big", "--max-memory", "8", "-o", str(tmp_path / "big.json"))
    assert big.returncode == 0, big.stderr
    small = run_cli(f"{models}:Big", "--kwargs", '{"where": "nowhere"}', "--max-memory", "1",
                    "-o", str(tmp_path / "small.json"))
    assert small.returncode == 0, small.stderr


def test_killed_near_the_cap_is_said_to_be_memory(models, tmp_path):
    result = run_cli(f"{models}:DiesNearTheCap", "--max-memory", "1",
                     "-o", str(tmp_path / "out.json"))
    assert "the model needed more than 1 GiB of memory" in verdict(result)


def test_killed_far_from_the_cap_says_which_signal(models, tmp_path):
    result = run_cli(f"{models}:DiesNearTheCap", "--kwargs", '{"fill": false}',
                     "-o", str(tmp_path / "out.json"))
    last = verdict(result)
    assert last.endswith("the import process was killed by signal 9 (SIGKILL) before it "
                         "finished"), last
    assert "memory" not in last


@pytest.mark.parametrize("value", ["0", "-1", "2e6", "nan"])
def test_unusable_max_memory_exits_2(tmp_path, value, capsys):
    from builder.cli import main

    assert main(["import", "m.py:Net", "--input", "2", "--max-memory", value,
                 "-o", str(tmp_path / "o.json")]) == 2
    assert "--max-memory must be more than 0 and at most 1000000 GiB" in capsys.readouterr().err


def test_help_shows_the_default_cap(capsys):
    from builder.cli import main

    with pytest.raises(SystemExit):
        main(["import", "--help"])
    from builder.import_command import default_max_memory

    words = " ".join(capsys.readouterr().out.split())  # argparse wraps the help
    assert f"(default {default_max_memory():.1f}: 3/4 of this machine's memory)" in words


# -- the model's own exits ---------------------------------------------------------------------
def exits_line(where: str) -> int:
    """The line of ``sys.exit(3)`` in Exits' constructor or forward."""
    lines = MODELS.splitlines()
    start = lines.index("class Exits(nn.Module):")
    found = [i for i, line in enumerate(lines) if "sys.exit(3)" in line and i > start]
    return found[0 if where == "init" else 1] + 1


@pytest.mark.parametrize("where, doing", [("init", "building it"), ("forward", "running it")])
def test_the_models_sys_exit_is_reported_as_such(models, tmp_path, where, doing):
    result = run_cli(f"{models}:Exits", "--kwargs", json.dumps({"where": where}),
                     "-o", str(tmp_path / "out.json"))
    assert verdict(result) == (
        f"torchcanvas import: {models}:Exits: the model's code called sys.exit(3) while "
        f"{doing} (fence.py, line {exits_line(where)})")


def test_the_models_os_exit_is_not_called_out_of_memory(models, tmp_path):
    result = run_cli(f"{models}:Exits", "--kwargs", '{"where": "os"}',
                     "-o", str(tmp_path / "out.json"))
    assert verdict(result) == (
        f"torchcanvas import: {models}:Exits: the import process ended with exit code 5 "
        f"before it finished (the model's code ended the process?)")
