"""The worker process of `torchcanvas import`: load the SPEC, build the model, import it.

Started as ``python -m builder.import_worker REQUEST`` (builder/import_protocol.py).

It writes its outcome to the request's ``result`` file as JSON (``{"ok": true, ...}`` or
``{"ok": false, "message": ...}``) and the project to the ``project`` file, so a crash or a
kill leaves no half-written project behind. Progress goes to stderr, one stage per line.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from builder.import_protocol import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNUSABLE,
    memory_message,
    progress_line,
    spec_file,
)

# Words of torch's CPU allocator when an allocation is refused (the GPU's say CUDA or MPS:
# not this import's limit).
_ALLOCATOR_WORDS = ("can't allocate memory", "cannot allocate memory", "out of memory")


class Failure(Exception):
    """What went wrong, in one line for the user."""


def progress(stage: str) -> None:
    print(progress_line(stage), file=sys.stderr, flush=True)


def _exit_with_parent() -> None:
    """Stop when the `torchcanvas import` that started this worker is gone (killed by the app
    on Cancel, say): a worker must never outlive its caller."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        _end_own_group()

    threading.Thread(target=watch, daemon=True).start()


def _end_own_group() -> None:
    """Started in a session of its own, the worker leads its process group: killing the group
    ends whatever the model forked as well. Run any other way, the group is its caller's and
    must be left alone."""
    if hasattr(os, "killpg") and os.getpgid(0) == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(EXIT_FAILED)


def cap_memory(limit: int) -> None:
    """At most ``limit`` bytes of data for this process and what it starts. RLIMIT_DATA, not
    RLIMIT_AS: CUDA reserves huge address ranges it never fills, which RLIMIT_AS counts."""
    try:
        import resource
    except ImportError:  # Windows: no limit, and nothing to say about it
        return
    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError):
        pass  # a system that refuses it: the import runs without its cap


def run_request(request: dict) -> int:
    _exit_with_parent()
    cap_memory(request["max_memory"])
    result: dict[str, Any]
    try:
        result = _import(request)
    except Exception as err:
        result = {"ok": False, "message": _failure_message(err, request["max_memory"])}
    # Written whole or not at all: a worker killed mid-write must not leave half a result.
    partial = Path(f"{request['result']}.part")
    partial.write_text(json.dumps(result), encoding="utf-8")
    os.replace(partial, request["result"])
    return EXIT_OK if result["ok"] else EXIT_FAILED


def _failure_message(err: Exception, max_memory: int) -> str:
    if out_of_memory(err):
        return memory_message(max_memory)
    if isinstance(err, Failure):
        return str(err)
    # A bug of ours: still one line, with where it happened.
    frame = traceback.extract_tb(err.__traceback__)[-1]
    return f"internal error while importing ({type(err).__name__}: {err}, at " \
           f"{Path(frame.filename).name}:{frame.lineno}); please report it"


def out_of_memory(err: BaseException | None) -> bool:
    """Whether an allocation was refused anywhere in the chain of ``err`` (our one-line
    failures are raised ``from None``, which keeps the model's error as the context)."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        text = str(err)
        if isinstance(err, MemoryError) or isinstance(err, RuntimeError) and \
                "CUDA" not in text and "MPS" not in text and \
                any(words in text.lower() for words in _ALLOCATOR_WORDS):
            return True
        err = err.__cause__ or err.__context__
    return False


def _import(request: dict) -> dict:
    os.chdir(request["cwd"])
    progress(f"loading {request['spec']}")
    target = resolve_spec(request["spec"])
    import torch

    from codegen.importer import ModelImportError, import_model_with_report, recording
    from graph_schema.files import project_to_json

    progress("building the model")
    with recording():
        model = build(target, request["spec"], request["kwargs"])
    if not isinstance(model, torch.nn.Module):
        raise Failure(f"{request['spec']} gave a {type(model).__name__}, not an nn.Module")
    torch.manual_seed(0)
    inputs = tuple(_tensor(item) for item in request["inputs"])
    try:
        imported = import_model_with_report(model, inputs, name=request["name"],
                                            progress=progress)
    except ModelImportError as err:
        raise Failure(str(err)) from None
    except SystemExit as err:
        raise exit_failure(err, "running it") from None
    project = imported.project
    Path(request["project"]).write_text(project_to_json(project), encoding="utf-8")
    nodes = sum(len(g.nodes) for g in [*project.networks, *project.blocks])
    return {"ok": True, "warnings": imported.warnings,
            "summary": f"{len(project.blocks)} blocks, {nodes} nodes"}


def _tensor(item: dict):
    import torch

    dtype = getattr(torch, item["dtype"])
    if dtype.is_floating_point:
        return torch.randn(item["shape"], dtype=dtype)
    return torch.zeros(item["shape"], dtype=dtype)  # index 0 is valid for any embedding


def resolve_spec(spec: str):
    """``path/to/file.py:Name`` or ``package.module:Name`` -> the object named."""
    location, _, name = spec.rpartition(":")
    if spec_file(spec):
        module = _load_file(Path(location))
    else:
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as err:
            raise Failure(f"cannot import module {location!r} ({err})") from None
        except Exception as err:
            raise Failure(f"importing {location} failed: {_one_line(err)}") from None
    target: Any = module
    for part in name.split("."):
        if not hasattr(target, part):
            raise Failure(f"{location} has no {name!r}")
        target = getattr(target, part)
    return target


def _load_file(path: Path):
    if not path.is_file():
        raise Failure(f"no such file: {path}")
    module_name = f"torchcanvas_import_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise Failure(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # classes kept as source are looked up here
    sys.path.insert(0, str(path.resolve().parent))  # so the file's own imports work
    try:
        spec.loader.exec_module(module)
    except SystemExit as err:
        raise exit_failure(err, "loading it") from None
    except Exception as err:
        raise Failure(f"loading {path} failed: {_one_line(err)}") from None
    return module


def build(target, spec: str, kwargs: dict):
    if not callable(target):
        raise Failure(f"{spec} is a {type(target).__name__}, not an nn.Module class or a "
                      f"function returning one")
    try:
        return target(**kwargs)
    except TypeError as err:
        hint = " (pass constructor arguments with --kwargs '{\"name\": value}')" \
            if "argument" in str(err) else ""
        raise Failure(f"building {spec}(**{kwargs or {}}) failed: {_one_line(err)}{hint}") \
            from None
    except Exception as err:
        raise Failure(f"building {spec} failed: {_one_line(err)}") from None
    except SystemExit as err:
        raise exit_failure(err, "building it") from None


def exit_failure(err: SystemExit, doing: str) -> Failure:
    """The model's own sys.exit: said as such, not as a crash of the import."""
    code = "" if err.code is None else repr(err.code)
    return Failure(f"the model's code called sys.exit({code}) while {doing}{_where(err)}")


def _one_line(err: Exception) -> str:
    text = (str(err).strip().splitlines() or [""])[0]
    # A SyntaxError's text already ends with its "(file, line N)".
    where = "" if isinstance(err, SyntaxError) else _where(err)
    return f"{type(err).__name__}: {text}{where}"


def _where(err: BaseException) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    if frames and Path(frames[-1].filename) != Path(__file__):
        return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"
    return ""


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        print("usage: python -m builder.import_worker REQUEST.json (started by torchcanvas "
              "import)", file=sys.stderr)
        sys.exit(EXIT_UNUSABLE)
    code = run_request(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
    sys.stderr.flush()
    # The result is written: threads or exit handlers the model left must not hold the
    # worker (the parent would wait for them until --timeout).
    os._exit(code)


if __name__ == "__main__":
    main(sys.argv)
