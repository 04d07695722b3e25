"""`torchcanvas import SPEC --input SHAPE[:DTYPE]... [--kwargs JSON] -o OUT.json`.

The model is built and run in a separate worker process (``python -m
builder.import_command --worker REQUEST``), so a model that hangs, crashes or eats memory
never takes the caller down: after ``--timeout`` seconds the worker is killed. The worker
reports progress on stderr as lines ``torchcanvas-progress: <stage>``, which this process
prints as ``torchcanvas import: <stage>`` (the app shows them while it waits). To cancel,
send this process SIGTERM (exit 143): the worker goes too, and nothing is written.

Exit codes: 0 written; 1 the model could not be imported (one line says why); 2 the
arguments themselves are unusable. Never a traceback.
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
from collections import deque
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2
PROGRESS = "torchcanvas-progress: "
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool")
MAX_ELEMENTS = 2**28
DEFAULT_TIMEOUT = 120.0


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
        raise ArgumentProblem("--timeout must be between 0 and 86400 seconds")
    output = Path(args.output)
    if output.is_dir() or not (output.parent if str(output.parent) else Path(".")).is_dir():
        raise ArgumentProblem(f"cannot write {args.output}: its folder does not exist")
    return {"spec": args.spec, "inputs": [parse_input(t) for t in args.input],
            "kwargs": kwargs, "name": args.name, "cwd": os.getcwd()}


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
    command = [sys.executable, "-m", "builder.import_command", "--worker", str(request_path)]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace",
                               start_new_session=True)
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_relay, args=(process.stderr, tail), daemon=True)
    reader.start()
    previous = signal.signal(signal.SIGTERM, _terminated)  # the app's Cancel
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        return "timeout", list(tail)
    except (KeyboardInterrupt, SystemExit):
        _kill(process)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    reader.join(timeout=5)
    return code, list(tail)


def _terminated(_signum, _frame) -> None:
    raise SystemExit(143)


def _relay(stream, tail: deque) -> None:
    for line in stream:
        line = line.rstrip("\n")
        if line.startswith(PROGRESS):
            print(f"torchcanvas import: {line[len(PROGRESS):]}", file=sys.stderr, flush=True)
        elif line.strip():
            tail.append(line)


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def _report(args, request: dict, code: int, tail: list[str]) -> int:
    result_path = Path(request["result"])
    if not result_path.exists():
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        print(f"torchcanvas import: {args.spec}: the import process stopped without a result "
              f"({how}; out of memory?)", file=sys.stderr)
        for line in tail[-5:]:
            print(f"  {line}", file=sys.stderr)
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
    return EXIT_OK


# -- the worker ---------------------------------------------------------------------------
def _worker(request_path: str) -> int:
    from builder.import_worker import run_request

    return run_request(json.loads(Path(request_path).read_text(encoding="utf-8")))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(_worker(sys.argv[2]))
    print("usage: torchcanvas import SPEC --input SHAPE ... -o OUT.json", file=sys.stderr)
    sys.exit(EXIT_UNUSABLE)
