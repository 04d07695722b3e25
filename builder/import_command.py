"""`torchcanvas import SPEC --input SHAPE[:DTYPE]... [--kwargs JSON] -o OUT.json [--force]`.

The model is built and run in a separate worker process (``python -m builder.import_worker
REQUEST``; what the two say to each other is builder/import_protocol.py), so a model that
hangs, crashes or eats memory never takes the caller down: after ``--timeout`` seconds the
worker is killed, and its memory is capped at ``--max-memory`` GiB. The worker leads a process
group of its own; when the import ends (written, failed, timed out, cancelled, or this process
killed) the whole group is killed, so nothing the model started outlives it. The worker
reports progress on stderr, which this process relays as ``torchcanvas import: <stage>`` (the
app shows them while it waits). To cancel, send this process SIGTERM (exit 143): the worker
goes too, and nothing is written. The output is checked first (builder.outputs): never the
model's own file, an existing file only with ``--force``.

Exit codes: 0 written; 1 the model could not be imported (one line says why: it raised,
it needed more memory than ``--max-memory``, it called ``sys.exit``, it hung, the worker
died); 2 the arguments themselves are unusable, or the output may not be written. Never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from builder.import_protocol import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNUSABLE,
    GIB,
    memory_message,
    relayed,
    spec_file,
    worker_command,
)

DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool")
MAX_ELEMENTS = 2**28
DEFAULT_TIMEOUT = 120.0
MAX_MEMORY_GIB = 1e6  # larger than any machine: a typo, not a limit
NEAR_THE_CAP = 0.8  # a worker killed with this share of its cap resident likely hit it


class ArgumentProblem(Exception):
    """An argument that cannot be used (exit 2)."""


def add_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC",
                        help="path/to/file.py:Name or package.module:Name (an nn.Module class "
                             "or a function returning one)")
    parser.add_argument("--input", action="append", default=[], metavar="SHAPE[:DTYPE]",
                        help="one example input, e.g. 2,3,224,224 or 2,16:int64 (repeat for "
                             "several inputs)")
    parser.add_argument("--kwargs", default="{}", metavar="JSON",
                        help="keyword arguments for Name, as a JSON object")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.json",
                        help="where to write the project")
    parser.add_argument("--name", help="the project's name (default: the model's class)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"give up after this long (default {DEFAULT_TIMEOUT:g})")
    default = default_max_memory()
    parser.add_argument("--max-memory", type=float, default=default, metavar="GIB",
                        help=f"memory the model may use, in GiB (default {default:.1f}: 3/4 "
                             f"of this machine's memory)")
    from builder.outputs import add_force_argument

    add_force_argument(parser, "OUT.json", writes_project=True)


def default_max_memory() -> float:
    """3/4 of physical memory in GiB: room for the model, some left for everything else."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on this system (Windows)
        total = -1
    return 0.75 * total / GIB if total > 0 else 8.0


def parse_input(text: str) -> dict:
    """``2,3,224,224`` or ``2,16:int64`` -> {"shape": [...], "dtype": "..."}."""
    shape_text, _, dtype = text.partition(":")
    dtype = dtype.strip() or "float32"
    if dtype not in DTYPES:
        raise ArgumentProblem(f"--input {text}: unknown dtype {dtype!r} (one of "
                              f"{', '.join(DTYPES)})")
    try:
        shape = [int(part) for part in shape_text.split(",")] if shape_text.strip() else []
    except ValueError:
        raise ArgumentProblem(f"--input {text}: expected sizes separated by commas, such as "
                              f"2,3,224,224") from None
    if len(shape) > 8 or any(size < 1 for size in shape):
        raise ArgumentProblem(f"--input {text}: sizes must be positive, at most 8 of them")
    elements = 1
    for size in shape:
        elements *= size
    if elements > MAX_ELEMENTS:
        raise ArgumentProblem(f"--input {text}: {elements:,} elements is more than an example "
                              f"input needs; use a batch of 1 or 2 and small sizes")
    return {"shape": shape, "dtype": dtype}


def _request(args) -> dict:
    if ":" not in args.spec or not args.spec.rsplit(":", 1)[1]:
        raise ArgumentProblem(f"SPEC {args.spec!r} must be path/to/file.py:Name or "
                              f"package.module:Name")
    if not args.input:
        raise ArgumentProblem("give at least one example input with --input, e.g. "
                              "--input 1,3,224,224")
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as err:
        raise ArgumentProblem(f"--kwargs is not valid JSON ({err.msg})") from None
    if not isinstance(kwargs, dict):
        raise ArgumentProblem("--kwargs must be a JSON object, such as '{\"num_classes\": 10}'")
    if not 0 < args.timeout <= 86_400:
        raise ArgumentProblem("--timeout must be more than 0 and at most 86400 seconds")
    if not 0 < args.max_memory <= MAX_MEMORY_GIB:
        raise ArgumentProblem(f"--max-memory must be more than 0 and at most "
                              f"{MAX_MEMORY_GIB:.0f} GiB")
    from builder.outputs import output_problem

    problem = output_problem(args.output, inputs=_spec_files(args.spec), force=args.force,
                             writes_project=True)
    if problem:
        raise ArgumentProblem(problem)
    return {"spec": args.spec, "inputs": [parse_input(t) for t in args.input],
            "kwargs": kwargs, "name": args.name, "cwd": os.getcwd(),
            "max_memory": int(args.max_memory * GIB)}


def _spec_files(spec: str) -> list[str]:
    path = spec_file(spec)
    return [path] if path else []


# -- the parent: run the worker, watch the clock ------------------------------------------------
def cmd_import(args) -> int:
    try:
        request = _request(args)
    except ArgumentProblem as err:
        print(f"torchcanvas: {err}", file=sys.stderr)
        return EXIT_UNUSABLE
    with tempfile.TemporaryDirectory(prefix="torchcanvas-import-") as folder:
        request["result"] = str(Path(folder) / "result.json")
        request["project"] = str(Path(folder) / "project.json")
        request_path = Path(folder) / "request.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        code, tail = _run_worker(request_path, args.timeout)
        if code == "timeout":
            print(f"torchcanvas import: {args.spec}: no result after {args.timeout:g} s (the "
                  f"model's constructor or forward does not finish); if it is only slow, "
                  f"raise --timeout", file=sys.stderr)
            return EXIT_FAILED
        return _report(args, request, code, tail)


def _run_worker(request_path: Path, timeout: float) -> tuple[int | str, list[str]]:
    command = worker_command(str(request_path))
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace",
                               start_new_session=True)
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_relay, args=(process.stderr, tail), daemon=True)
    reader.start()
    previous = signal.signal(signal.SIGTERM, _terminated)  # the app's Cancel
    try:
        ended = _wait_unreaped(process, timeout)
    finally:  # written, failed, timed out or cancelled: what the model forked goes too
        _end_group(process)
        signal.signal(signal.SIGTERM, previous)
    reader.join(timeout=5)  # after the group is gone: a grandchild may hold the pipe open
    return (process.returncode if ended else "timeout"), list(tail)


def _wait_unreaped(process: subprocess.Popen, timeout: float) -> bool:
    """Whether the worker ended within ``timeout``. It is left a zombie: until it is reaped
    its pid, which is its group's id, cannot be reused, so killing the group cannot hit a
    stranger."""
    if not hasattr(os, "waitid"):  # Windows: no process groups, nothing to keep
        try:
            process.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    while os.waitid(os.P_PID, process.pid, flags) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _terminated(_signum, _frame) -> None:
    raise SystemExit(143)


def _relay(stream, tail: deque) -> None:
    for line in stream:
        line = line.rstrip("\n")
        stage = relayed(line)
        if stage is not None:
            print(stage, file=sys.stderr, flush=True)
        elif line.strip():
            tail.append(line)


def _end_group(process: subprocess.Popen) -> None:
    """Kill the worker's process group (the worker, if still running, and every process
    the model started), then reap the worker."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):  # Windows; group gone
        if process.poll() is None:
            process.kill()
    process.wait()


def _near_the_cap(max_memory: int) -> bool:
    """Whether the worker, gone without a result, had about as much memory as it may have
    (a kernel's OOM kill, an allocation failure that aborted)."""
    try:
        import resource
    except ImportError:  # Windows: no evidence either way
        return False
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return peak >= NEAR_THE_CAP * max_memory


def _no_result(code: int, max_memory: int) -> str:
    if _near_the_cap(max_memory):
        return memory_message(max_memory)
    if code < 0:
        try:
            name = f" ({signal.Signals(-code).name})"
        except ValueError:
            name = ""
        return f"the import process was killed by signal {-code}{name} before it finished"
    return f"the import process ended with exit code {code} before it finished (the " \
           f"model's code ended the process?)"


def _report(args, request: dict, code: int, tail: list[str]) -> int:
    result_path = Path(request["result"])
    if not result_path.exists():
        for line in tail[-5:]:  # what it printed last, for context; the verdict comes last
            print(f"  {line}", file=sys.stderr)
        print(f"torchcanvas import: {args.spec}: {_no_result(code, request['max_memory'])}",
              file=sys.stderr)
        return EXIT_FAILED
    result = json.loads(result_path.read_text(encoding="utf-8"))
    if not result["ok"]:
        print(f"torchcanvas import: {args.spec}: {result['message']}", file=sys.stderr)
        return result.get("exit", EXIT_FAILED)
    from graph_schema.files import atomic_write_text

    try:
        atomic_write_text(args.output, Path(request["project"]).read_text(encoding="utf-8"))
    except OSError as err:
        print(f"torchcanvas: cannot write {args.output}: {err.strerror or err}",
              file=sys.stderr)
        return EXIT_UNUSABLE
    for warning in result["warnings"]:
        print(f"torchcanvas import: warning: {warning}", file=sys.stderr)
    print(f"wrote {args.output} ({result['summary']})", file=sys.stderr)
    print(_drawn_line(args.output), file=sys.stderr)
    return EXIT_OK


def _drawn_line(path) -> str:
    """'N classes drawn, K kept as source (names), M ops': how editable the diagram is."""
    from graph_schema import load_project
    from graph_schema.drawn import drawn

    return drawn(load_project(path)).line()
