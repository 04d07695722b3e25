"""Hostile project files against every command (tests/fuzz_strategies.py makes them).

Each file goes through load, validate (and --json), summary, generate, render and trust, in
process (builder.cli.main), and each command must give what the README promises: exit 0, 1
or 2 as validate's verdict says, a clear result or one clear line starting ``torchcanvas:``,
no traceback, no hang, the input never rewritten, and no payload run: ``CANARY`` is never
written. Where generate succeeds, the module imports, each network class builds with no
arguments and, when that is cheap, runs forward on zeros (then the canary is checked again).
Kept source with a payload is emitted when trusted (that is the opt-in) and never imported.

``make test`` runs a few examples of each kind, the same ones every time; ``make fuzz``
(TORCHCANVAS_FUZZ=long) runs many more, fresh ones each run: a failure prints the
``@reproduce_failure`` decorator that replays it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import codegen  # noqa: F401 (imported once here, not inside the first example's time bound)
from graph_schema import ProjectError, load_project
from graph_schema.dims import Sym
from graph_schema.document import Project
from graph_schema.inference import Inference
from graph_schema.summary import summarize
from graph_schema.trust import disallowed_imports, untrusted_blocks
from tests.codegen_support import SIZES, concrete_project, import_path, network_classes
from tests.fuzz_strategies import (
    ALL_EXAMPLES,
    CANARY,
    EXAMPLES,
    PAYLOADS,
    SOURCES,
    KeptCase,
    garbled,
    kept_source_files,
    mangled,
    with_code_like_text,
)
from tests.fuzz_support import cli, review_lines, visible_text
from tests.kept_blocks import kept_block, placed_gate

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:torch")

LONG = os.environ.get("TORCHCANVAS_FUZZ") == "long"
# too_slow: one example runs seven commands and may build and run a model, by design.
settings.register_profile("torchcanvas-fuzz", max_examples=12, deadline=None,
                          derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("torchcanvas-fuzz-long", max_examples=300, deadline=None,
                          database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings.get_profile("torchcanvas-fuzz-long" if LONG else "torchcanvas-fuzz")
EXAMPLE_SECONDS = 60  # one hostile file, every command: a hang fails the example
FORWARD_MACS = 300_000_000  # run forward only below this (resnet18 is built, not run)
BUILD_PARAMS = 50_000_000  # build on the meta device above this


def fuzz(weight: float = 1.0):
    return settings(FUZZ, max_examples=max(1, round(FUZZ.max_examples * weight)))


class Hang(Exception):
    """An example ran past EXAMPLE_SECONDS."""


@contextlib.contextmanager
def bounded(seconds: float = EXAMPLE_SECONDS):
    """Fail (rather than hang) an example that runs too long; keeps interrupting, every
    second, code that swallows the first interruption."""
    fired = []

    def interrupt(signum, frame):
        fired.append(True)
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired, f"an example ran past {seconds} s"


# -- one file, every command -----------------------------------------------------------------
def check_file(path: Path, runs_code: bool = False, layout: bool = False) -> dict:
    """Every command on ``path``; returns what validate said (None when unusable)."""
    original = path.read_bytes()
    folder = path.parent
    try:
        project, problem = load_project(path), None
    except ProjectError as err:
        project, problem = None, str(err)
    if project is None:
        event("unusable")
        check_unusable(path, problem)
        report = None
    else:
        report = check_usable(path, project, folder, runs_code, layout)
    assert path.read_bytes() == original, "a command rewrote its input"
    assert not CANARY.exists()
    return report


def check_unusable(path: Path, problem: str) -> None:
    assert "\n" not in problem and visible_text(problem), repr(problem)
    expected = f"torchcanvas: {problem}\n"
    for argv in (["validate", path], ["summary", path],
                 ["generate", path, "-o", path.with_suffix(".py")],
                 ["render", path, "-o", path.with_suffix(".svg")], ["trust", path]):
        run = cli(*argv)
        assert (run.code, run.out, run.err) == (2, "", expected), str(run)
    assert not path.with_suffix(".py").exists() and not path.with_suffix(".svg").exists()
    run = cli("validate", "--json", path)
    assert run.code == 2 and run.err == expected, str(run)
    assert json.loads(run.out) == {"file": str(path), "valid": False, "usable": False,
                                   "error": problem.removeprefix(f"{path}: ")}


def check_usable(path, project: Project, folder: Path, runs_code: bool, layout: bool) -> dict:
    as_json = cli("validate", "--json", path)
    report = json.loads(as_json.out)
    errors = report["errors"]
    assert report["valid"] == (errors == 0) and report["usable"] is True
    assert as_json.code == (1 if errors else 0) and as_json.err == "", str(as_json)
    error_codes = {d["code"] for d in report["diagnostics"] if d["severity"] == "error"}
    event("invalid" if errors else "valid")
    assert errors == sum(d["severity"] == "error" for d in report["diagnostics"])

    text = cli("validate", path)
    lines = text.out.splitlines()
    warnings = len(report["diagnostics"]) - errors
    verdict = "invalid" if errors else "valid"
    assert lines[-1] == (f"{path}: {verdict} ({errors} error{'s' * (errors != 1)}, "
                         f"{warnings} warning{'s' * (warnings != 1)})"), str(text)
    assert len(lines) == len(report["diagnostics"]) + 1, str(text)  # one line each
    assert text.code == as_json.code and text.err == "" and visible_text(text.out), str(text)

    summary = cli("summary", path)
    assert summary.code == text.code and summary.out.strip(), str(summary)
    assert visible_text(summary.out), summary.out
    if errors:
        assert summary.lines[:2] == ["", f"{errors} error(s); the summary is incomplete:"]
        assert len(summary.lines) == errors + 2, str(summary)
    else:
        assert summary.err == "", str(summary)

    check_generate(path, project, folder, error_codes, runs_code, trust=False)
    if any(b.opaque for b in project.blocks):
        check_generate(path, project, folder, error_codes - {"untrusted-source"}, runs_code,
                       trust=True)
    check_render(path, folder, errors, layout)
    check_trust(path, project)
    return report


def check_generate(path, project, folder, error_codes, runs_code, trust):
    output = folder / ("trusted.py" if trust else "generated.py")
    script = folder / ("trusted_train.py" if trust else "train.py")
    argv = ["generate", path, "-o", output, "--train-script", script]
    run = cli(*argv, *(["--trust-kept-source"] if trust else []))
    if error_codes:
        head = f"{path}: cannot generate code: the project has "
        assert run.code == 1 and run.out == "" and run.lines[0].startswith(head), str(run)
        assert not output.exists() and not script.exists()
        return
    assert run.code == 0 and run.out == "", str(run)
    assert run.lines[-2:] == [f"wrote {output}", f"wrote {script}"], str(run)
    compile(script.read_text(encoding="utf-8"), str(script), "exec")
    if runs_code:  # the user's opt-in (a signature or the flag) emits the payload: not run
        assert any(p in output.read_text(encoding="utf-8") for p in PAYLOADS)
        return
    reason = known_bug(project)
    if reason:
        note(f"not imported: {reason}")
        return
    check_module(project, output)


def check_module(project: Project, output: Path) -> None:
    """Import the generated module from its file, build each network, run forward."""
    source = output.read_text(encoding="utf-8")
    try:
        module = import_path(output)
    except Exception as err:
        raise AssertionError(f"the generated module does not import: {err!r}\n{source}") \
            from err
    classes = network_classes(project, source, module)
    event("imported")
    for network in project.networks:
        summary = summarize(project, network)
        try:
            if summary.total_params > BUILD_PARAMS:
                with torch.device("meta"):
                    classes[network.name]()
                continue
            model = classes[network.name]()
            inputs = zero_inputs(project, network, summary)
            if inputs is not None:
                model.eval()
                with torch.no_grad():
                    model(*inputs)
                event("ran forward")
        except Hang:
            raise
        except Exception as err:
            raise AssertionError(f"network {network.name!r} does not build or run: "
                                 f"{err!r}\n{source}") from err
        assert not CANARY.exists(), "the generated module ran a payload"


def zero_inputs(project, network, summary) -> list | None:
    """Zeros of each input's shape (N=2, ...), or None when forward would not be cheap."""
    macs = summary.total_macs
    macs = macs.substitute(SIZES) if isinstance(macs, Sym) else macs
    if not isinstance(macs, int) or macs > FORWARD_MACS:
        return None
    concrete = concrete_project(project)
    inference = Inference(concrete.network(network.name), concrete)
    tensors = []
    for node in network.inputs():
        shape = inference.output_shape(node.id)
        if shape is None or not all(isinstance(d, int) for d in shape):
            return None
        tensors.append(torch.zeros(shape, dtype=getattr(torch, node.params.get("dtype",
                                                                                "float32"))))
    return tensors


def check_render(path, folder, errors, layout):
    image = folder / "diagram.svg"
    run = cli("render", path, "-o", image, *(["--layout"] if layout else []))
    assert run.code == 0 and run.out == f"wrote {image}\n", str(run)
    assert image.read_bytes().startswith(b"<?xml")
    told = [line for line in run.lines if line.endswith("shown in the diagram")]
    # Not the same count as validate's: test_render_counts_the_errors_validate_counts.
    assert len(told) == bool(errors), str(run)
    assert all(line.startswith(f"{path}: ") for line in run.lines), str(run)
    assert len(run.lines) <= 3, str(run)


def check_trust(path, project):
    pending = untrusted_blocks(project)
    run = cli("trust", path)
    if not pending:
        assert run.code == 0 and run.err == "", str(run)
        assert run.out.startswith(f"{path}: nothing to trust"), str(run)
    elif any(disallowed_imports(b.opaque) for b in pending):
        assert run.code == 1 and run.out == "", str(run)
        assert all(line.startswith(f"torchcanvas: {path}: block '") and
                   line.endswith("nothing was signed") for line in run.lines), str(run)
    else:
        assert run.code == 2, str(run)
        assert run.err == f"torchcanvas: {path}: not signed: nobody to ask (no terminal); " \
                          f"review the source above, then run again with --yes\n", str(run)
        assert visible_text(run.out.replace("\t", " ")), run.out  # what the reviewer reads
        assert len(run.out.split("\n")) == 1 + sum(review_lines(b) for b in pending)
        for block in pending:
            assert f"class {block.opaque.class_name}" in run.out


# -- known bugs: the example is checked, its module is not imported ---------------------------


def known_bug(project: Project) -> str | None:
    """Why the generated module cannot import or run, for the bug still open (the strict
    xfail of test_fuzz_findings.py)."""
    if any(graph.tied for graph in [*project.networks, *project.blocks]):
        return "tied weights (test_tied_weights_that_cannot_be_tied_are_refused)"
    return None










# -- the properties ----------------------------------------------------------------------------
def write(data: bytes, name: str = "hostile.json") -> Path:
    folder = Path(tempfile.mkdtemp(prefix="torchcanvas-fuzz-"))
    path = folder / name
    path.write_bytes(data)
    return path


def check_data(data: bytes, runs_code: bool = False, layout: bool = False) -> dict | None:
    path = write(data)
    try:
        with bounded():
            return check_file(path, runs_code, layout)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


example_names = st.sampled_from([p.name for p in ALL_EXAMPLES])
valid_names = st.sampled_from([p.name for p in EXAMPLES])


@fuzz(2)
@given(st.data())
def test_garbled_bytes(data):
    name = data.draw(example_names, "example")
    check_data(data.draw(garbled(SOURCES[name]), "file"))


@fuzz(3)
@given(st.data())
def test_mangled_json(data):
    name = data.draw(example_names, "example")
    check_data(data.draw(mangled(SOURCES[name]), "file"), layout=data.draw(st.booleans()))


@fuzz(2)
@given(st.data())
def test_code_like_text(data):
    name = data.draw(valid_names, "example")
    check_data(data.draw(with_code_like_text(SOURCES[name]), "file"))


@fuzz(3)
@given(kept_source_files())
def test_kept_source(case: KeptCase):
    report = check_data(case.data, runs_code=case.runs_code)
    if report is None:
        return  # not loadable (not one class, a bad import name): exit 2 everywhere, checked
    codes = {d["code"] for d in report["diagnostics"] if d["severity"] == "error"}
    assert ("untrusted-source" in codes) == (not case.signed), report


# -- the same, as a user runs it ----------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def child(*argv, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "builder", *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_child_process_refuses_garbled_and_payload_files(tmp_path):
    truncated = tmp_path / "truncated.json"
    truncated.write_bytes(SOURCES["resnet18.json"][:5000])
    result = child("validate", truncated, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"torchcanvas: {truncated}: not valid JSON")

    kept = tmp_path / "kept.json"
    block = kept_block(sign=False, origin=f'"""\n{PAYLOADS[1]}\n', source=(
        "class Gate(nn.Module):\n"
        f"    {PAYLOADS[0]}\n"
        "    def forward(self, x):\n        return x\n"))
    kept.write_text(placed_gate(block).model_dump_json(), encoding="utf-8")
    before = kept.read_bytes()
    result = child("generate", kept, "-o", tmp_path / "out.py", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not trusted" in result.stderr and not (tmp_path / "out.py").exists()
    result = child("trust", kept, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nothing was signed" not in result.stdout and "not signed" in result.stderr
    assert kept.read_bytes() == before and not CANARY.exists()
