"""Launching many processes with PyTorch's own torchrun, from a parent that stays clean.

`launch` starts `python -m torch.distributed.run` as a child process (so the parent's
environment stays as it was, and a failed rank ends the whole launch: torchrun stops the
others), passes Ctrl+C / SIGTERM on once, and keeps torchrun's own noise off the terminal.
Each worker leaves its one-line error in a folder (`write_rank_error`), so the launcher can say
which rank failed first and why. Needs no torch.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from builder.training.logs import write_line

# The worker's own one-line error goes here, so the launcher can repeat it after torchrun's noise.
ERROR_DIR_VARIABLE = "TORCHCANVAS_ERROR_DIR"
LOOPBACK_INTERFACE = "lo" if sys.platform.startswith("linux") else "lo0"



def torchrun_command(worker_args: list[str], devices: int, num_nodes: int, node_rank: int,
                     rdzv_endpoint: str | None, timeout_s: float = 300.0) -> list[str]:
    """The torchrun command a user could type for this run."""
    command = [sys.executable, "-m", "torch.distributed.run", "--max-restarts", "0",
               "--nproc-per-node", str(devices)]
    if num_nodes == 1:
        command.append("--standalone")  # c10d rendezvous on a free local port: no collisions
    else:
        # Static rendezvous: node rank 0 hosts the store at the endpoint (its address), and ranks
        # follow node ranks (node N runs ranks N*devices...), as --node-rank promises. c10d's
        # rendezvous would number the nodes in the order they join. The nodes wait for each
        # other as long as ranks wait in a collective.
        command += ["--nnodes", str(num_nodes), "--node-rank", str(node_rank),
                    "--rdzv-backend", "static", "--rdzv-endpoint", rdzv_endpoint or "",
                    "--rdzv-id", f"torchcanvas-{rdzv_endpoint}",
                    "--rdzv-conf", f"timeout={max(1, round(timeout_s))}"]
    return command + ["-m", "builder", *worker_args]


def is_loopback(endpoint: str | None) -> bool:
    """True for HOST:PORT on this machine's loopback: every node is then on this machine."""
    host = _host_of(endpoint or "")
    return host == "localhost" or host.startswith("127.") or host == "::1"


def _host_of(endpoint: str) -> str:
    host = endpoint.rsplit(":", 1)[0] if ":" in endpoint else endpoint
    return host.strip("[]")


@dataclass(frozen=True)
class Launched:
    status: int  # torchrun's exit status (negative: the signal that ended it)
    torchrun_said: str  # torchrun's own account of a failure, one line, "" when none


def launch(command: list[str], error_dir: str, machine_local: bool) -> Launched:
    """Run torchrun and wait for it. Workers write to this terminal directly; torchrun's own
    log lines and tracebacks are held back (the launcher says what failed, once).

    torchrun runs in a session of its own: a Ctrl+C at the terminal reaches this process only,
    which passes one SIGINT on (torchrun passes it to each worker, which checkpoints and stops).
    Were they all in the terminal's process group, each worker would get two and stop at once
    without a checkpoint. A second Ctrl+C goes to every process of the run: stop now."""
    env = dict(os.environ, **{ERROR_DIR_VARIABLE: error_dir})
    env.setdefault("OMP_NUM_THREADS", "1")  # torchrun's own default, without its banner
    if machine_local:
        # gloo must pick an interface every rank can reach; loopback for a machine-local run.
        env.setdefault("GLOO_SOCKET_IFNAME", LOOPBACK_INTERFACE)
    noise = TorchrunOutput()
    with _signals_passed_on() as signals:
        if os.name == "nt":  # no pass_fds, no sessions: torchrun as it is
            child = subprocess.Popen(command, env=env)
            reader = None
        else:
            child, reader = _start_quiet(command, env, noise)
        signals.attach(child)
        status = child.wait()
    if reader is not None:
        reader.join(timeout=10)
    return Launched(status, noise.summary())


def _start_quiet(command: list[str], env: dict, noise: TorchrunOutput):
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(_quiet(command),
                                 env={**env, _LOG_FD_VARIABLE: str(write_end),
                                      _PARENT_VARIABLE: str(os.getpid())},
                                 pass_fds=(write_end,), start_new_session=True)
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    reader = threading.Thread(target=noise.read, args=(read_end,), daemon=True)
    reader.start()
    return child, reader


def _quiet(command: list[str]) -> list[str]:
    """`python -m torch.distributed.run ARGS` as the same torchrun with its Python stderr (its
    logging and its traceback) on the pipe in _LOG_FD_VARIABLE, and fd 2 left to the workers."""
    assert command[1:3] == ["-m", "torch.distributed.run"], command
    return [command[0], "-c", _TORCHRUN_BOOTSTRAP, *command[3:]]


_LOG_FD_VARIABLE = "TORCHCANVAS_TORCHRUN_LOG_FD"
# torchrun's C++ logging (its store's connection errors, with C++ stack frames) writes to fd 2
# itself; it is turned down for torchrun alone, whose errors still reach the pipe as exceptions.
# torchrun runs in a session of its own (see launch), so a launcher killed outright (SIGKILL:
# the app's Stop after its timeout, an OOM killer) would leave it and its workers running, on
# the GPUs, with nobody to report to. On Linux it asks to be sent SIGTERM when the launcher
# dies (prctl PR_SET_PDEATHSIG), which it handles as a stop, and leaves at once if the launcher
# died before it asked.
_PARENT_VARIABLE = "TORCHCANVAS_LAUNCHER_PID"
_TORCHRUN_BOOTSTRAP = (
    "import os, sys\n"
    "if sys.platform.startswith('linux'):\n"
    "    import ctypes, signal\n"
    "    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)\n"
    f"    if os.getppid() != int(os.environ.pop({_PARENT_VARIABLE!r}, os.getppid())):\n"
    "        sys.exit(143)\n"
    f"sys.stderr = os.fdopen(int(os.environ.pop({_LOG_FD_VARIABLE!r})), 'w', buffering=1)\n"
    "level = os.environ.get('TORCH_CPP_LOG_LEVEL')\n"
    "os.environ['TORCH_CPP_LOG_LEVEL'] = 'FATAL'\n"
    "import torch\n"
    "os.environ.pop('TORCH_CPP_LOG_LEVEL') if level is None else "
    "os.environ.update(TORCH_CPP_LOG_LEVEL=level)\n"
    "sys.argv[0] = 'torchrun'\n"
    "from torch.distributed.run import main\n"
    "main()\n")


class _signals_passed_on:
    """While torchrun runs: SIGINT and SIGTERM go on to it (SIGHUP as SIGTERM: the terminal is
    gone, the run should still checkpoint); a second SIGINT goes to all of its processes. A
    signal that comes before torchrun has started is passed on once it has."""

    def __init__(self):
        self.child, self.previous, self.interrupts, self.pending = None, {}, 0, []

    def attach(self, child: subprocess.Popen) -> None:
        self.child = child
        for signum in self.pending:
            self._forward(signum, None)

    def _forward(self, signum, _frame) -> None:
        if self.child is None:
            self.pending.append(signum)
            return
        if self.child.poll() is not None:
            return
        try:
            if signum == signal.SIGINT:
                self.interrupts += 1
                if self.interrupts > 1 and hasattr(os, "killpg"):
                    os.killpg(self.child.pid, signal.SIGINT)
                    return
            self.child.send_signal(signal.SIGTERM if signum == _SIGHUP else signum)
        except ProcessLookupError:
            pass  # it ended meanwhile

    def __enter__(self):
        for signum in _FORWARDED:
            self.previous[signum] = signal.signal(signum, self._forward)
        return self

    def __exit__(self, *_exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        return False


_SIGHUP = getattr(signal, "SIGHUP", None)
_FORWARDED = tuple(s for s in (signal.SIGINT, signal.SIGTERM, _SIGHUP) if s is not None)

# torchrun's logging format: `W1202 00:07:03.326000 13439 torch/distributed/...py:1028] text`.
_LOG_LINE = re.compile(r"^[IWEFD]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ \S+:\d+\] ?(.*)$")
_RULE = "=" * 20
_TRACEBACK_STARTS = ("Traceback (most recent call last):", "During handling of the above",
                     "The above exception was the direct cause")


class TorchrunOutput:
    """Reads torchrun's own stderr: drops its log lines and the traceback of its
    ChildFailedError (a worker failed; the worker's own report says why), keeps the root cause
    it names, and keeps a one-line account of any other error of its own (a rendezvous that
    timed out, a port in use). Lines of no known kind pass through."""

    def __init__(self):
        self.root_cause: dict[str, str] = {}
        self.error = ""
        self._traceback: list[str] | None = None
        self._report: str | None = None  # None; "failures"; "root cause"

    def read(self, fd: int) -> None:
        with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as pipe:
            for line in pipe:
                self.take(line.rstrip("\n"))
        self._flush_traceback()

    def take(self, line: str) -> None:
        if self._report is not None:
            self._take_report_line(line)
        elif self._traceback is not None:
            self._take_traceback_line(line)
        elif line.startswith(_TRACEBACK_STARTS):  # a chained one continues with a new start
            self._traceback = [line]
        elif (match := _LOG_LINE.match(line)) is not None:
            if line.startswith(("E", "F")) and "failed (exitcode" not in line:
                self.error = self.error or match.group(1).strip()
        elif line.strip():
            self._say(line)

    def _take_traceback_line(self, line: str) -> None:
        if line.startswith((" ", "\t", *_TRACEBACK_STARTS)) or not line.strip():
            self._traceback.append(line)
            return
        kind = line.split(":", 1)[0]
        self._traceback = None
        if kind.endswith("ChildFailedError"):
            self._report = "failures"  # its report of the workers follows
        elif kind.endswith("SignalException"):
            pass  # torchrun was told to stop, by us
        else:  # torchrun's own error: its name without the module path, and its message
            text = line.partition(":")[2].strip()
            self.error = self.error or f"{kind.rsplit('.', 1)[-1]}: {text}".rstrip(": ")

    def _take_report_line(self, line: str) -> None:
        stripped = line.strip()
        if stripped.startswith("Root Cause"):
            self._report = "root cause"
        elif stripped.startswith(_RULE) and self._report == "root cause":
            self._report = None
        elif self._report == "root cause" and ":" in stripped:
            key, value = (part.strip() for part in stripped.split(":", 1))
            self.root_cause.setdefault(key, value)

    def _flush_traceback(self) -> None:
        """A traceback cut off by the end of the stream is no noise we know: pass it on."""
        for line in self._traceback or []:
            self._say(line)
        self._traceback = None

    def _say(self, line: str) -> None:
        write_line(line, sys.stderr)

    def summary(self) -> str:
        """One line on what torchrun saw fail, or ""."""
        cause = self.root_cause
        if "rank" in cause:
            rank = cause["rank"].split(" ", 1)[0]
            status = re.sub(r"\s*\(pid: \d+\)\s*", " ", cause.get("exitcode", "?")).strip()
            return f"rank {rank} exited with status {status}"
        return self.error


def write_rank_error(world_rank: int | None, message: str) -> None:
    """Leave this worker's one-line error where the launcher will find it. The first rank to
    fail writes first: the launcher goes by the files' times to tell the cause from the ranks
    that failed because a peer was gone."""
    folder = os.environ.get(ERROR_DIR_VARIABLE)
    if not folder:
        return
    rank = world_rank if world_rank is not None else os.environ.get("RANK", "?")
    try:
        with open(os.path.join(folder, f"rank{rank}.txt"), "w", encoding="utf-8") as handle:
            handle.write(message)
    except OSError:
        pass  # the launcher then reports torchrun's own status


@dataclass(frozen=True)
class RankError:
    rank: str
    code: int
    message: str
    written_ns: int

    @property
    def peer_gone(self) -> bool:
        """The error of a rank whose peer had died: a consequence, not the cause."""
        return any(sign in self.message.lower() for sign in _PEER_GONE)


_PEER_GONE = ("connection closed by peer", "connection reset by peer", "broken pipe",
              "communicator was aborted", "remote worker crashing")


def read_rank_errors(folder: Path, failed_code: int = 1) -> list[RankError]:
    """The ranks' reports left by write_rank_error, the likely cause first: not one that only
    lost its peer, then the earliest written."""
    errors = []
    for path in folder.glob("rank*.txt"):
        try:
            code, _, message = path.read_text(encoding="utf-8").partition("\n")
            written = path.stat().st_mtime_ns
        except OSError:
            continue
        lines = message.strip().splitlines()
        errors.append(RankError(path.stem[4:], int(code) if code.isdigit() else failed_code,
                                lines[0] if lines else "(no message)", written))
    return sorted(errors, key=lambda e: (e.peer_gone, e.written_ns, e.rank))
