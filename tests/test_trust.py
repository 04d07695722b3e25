"""Kept source is trusted, not assumed: the trust key, signatures, and what validate,
generate and `torchcanvas trust` do with unsigned source. Nothing in here runs a kept source
except a module generated from source this run signed itself."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from builder.cli import main
from codegen import GenerationError, generate_source
from graph_schema import load_project, save_project, validate
from graph_schema.document import ImportedName
from graph_schema.files import project_to_json
from graph_schema.trust import (
    CONFIG_ENV,
    TrustError,
    is_trusted,
    key,
    key_path,
    read_key,
    signed,
    trust_blocks,
    untrusted_blocks,
)
from tests.kept_blocks import KEPT, kept_block, placed_gate

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def payload(canary: Path) -> str:
    """A kept source that writes ``canary`` when its class is defined, i.e. on import."""
    return KEPT.replace("class Gate(nn.Module):\n",
                        f"class Gate(nn.Module):\n    __import__('pathlib').Path("
                        f"{str(canary)!r}).touch()\n")


def untrusted_file(tmp_path: Path, source: str = KEPT, **changes) -> Path:
    path = tmp_path / "from_a_stranger.json"
    save_project(placed_gate(kept_block(source, sign=False, **changes)), path)
    return path


# -- the key -----------------------------------------------------------------------------
def test_the_key_is_made_on_first_use_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    assert read_key() is None  # reading never makes one
    made = key(create=True)
    assert len(made) == 32 and key_path().read_bytes() == made
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600
    assert key(create=True) == made  # made once, then kept
    assert [p.name for p in key_path().parent.iterdir()] == ["trust.key"]  # no temp left


def test_processes_making_the_key_at_once_agree_on_one(tmp_path):
    env = {**os.environ, CONFIG_ENV: str(tmp_path / "config")}
    code = "from graph_schema.trust import key; print(key(create=True).hex())"
    children = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, text=True) for _ in range(3)]
    keys = {child.communicate(timeout=60)[0].strip() for child in children}
    assert len(keys) == 1 and (tmp_path / "config" / "trust.key").read_bytes().hex() in keys


def test_a_damaged_key_is_reported_not_trusted(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    (tmp_path / "config").mkdir()
    key_path().write_bytes(b"short")
    with pytest.raises(TrustError, match="damaged"):
        read_key()
    problems = [d for d in validate(placed_gate(kept_block(sign=False)))
                if d.code == "untrusted-source"]
    assert problems and "damaged" in problems[0].message


# -- signatures --------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    {"source": KEPT.replace("return x", "return -x")},
    {"class_name": "Gate2", "source": KEPT.replace("class Gate(", "class Gate2(")},
    {"imports": [ImportedName(module="torch", alias="nn")]},
])
def test_any_change_to_what_becomes_code_breaks_the_signature(change):
    opaque = kept_block().opaque
    assert is_trusted(opaque, read_key())
    assert not is_trusted(opaque.model_copy(update=change), read_key())


def test_a_signature_made_with_another_key_is_not_trusted(tmp_path, monkeypatch):
    project = placed_gate(kept_block())  # signed with this run's key
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "someone-else"))
    key(create=True)
    assert [b.name for b in untrusted_blocks(project)] == ["Gate"]


def test_signatures_survive_saving_and_loading(tmp_path):
    path = tmp_path / "p.json"
    save_project(placed_gate(kept_block()), path)
    assert untrusted_blocks(load_project(path)) == []


def test_a_version_3_file_with_kept_source_loads_untrusted(tmp_path):
    doc = json.loads(project_to_json(placed_gate(kept_block(sign=False))))
    doc["format_version"] = 3
    del doc["blocks"][0]["opaque"]["signature"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert [b.name for b in untrusted_blocks(load_project(path))] == ["Gate"]


# -- validate and generate -----------------------------------------------------------------
def test_validate_names_the_untrusted_block_and_the_ways_on(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", untrusted_file(tmp_path))
    assert code == 1
    line = next(line for line in out.splitlines() if "not trusted" in line)
    assert "block 'Gate'" in line
    assert "torchcanvas trust" in line and "--trust-kept-source" in line


def test_generate_refuses_unsigned_source_and_never_runs_it(tmp_path, capsys):
    canary = tmp_path / "canary"
    path = untrusted_file(tmp_path, payload(canary))
    out_file = tmp_path / "model.py"
    code, out, err = run(capsys, "generate", path, "-o", out_file)
    assert code == 1 and not out_file.exists() and "not trusted" in err
    with pytest.raises(GenerationError):
        generate_source(load_project(path))
    assert not canary.exists()


def test_trust_kept_source_emits_it_and_says_so(tmp_path, capsys):
    path = untrusted_file(tmp_path)
    out_file = tmp_path / "model.py"
    code, _, err = run(capsys, "generate", path, "-o", out_file, "--trust-kept-source")
    assert code == 0 and "class Gate(nn.Module):" in out_file.read_text()
    assert "--trust-kept-source" in err and "Gate" in err


def test_a_disallowed_import_is_refused_even_when_trusted(tmp_path, capsys):
    block = kept_block(imports=[ImportedName(module="os", alias="os")])  # signed
    path = tmp_path / "p.json"
    save_project(placed_gate(block), path)
    code, _, err = run(capsys, "generate", path, "-o", tmp_path / "m.py",
                       "--trust-kept-source")
    assert code == 1 and "imports 'os'" in err and not (tmp_path / "m.py").exists()


@pytest.mark.parametrize("field", ["origin", "reason"])
def test_comment_breaking_origin_and_reason_stay_in_comments(tmp_path, field):
    canary = tmp_path / "canary"
    hostile = f"x\n__import__('pathlib').Path({str(canary)!r}).touch()\r# \u2028 \"\"\" '''"
    project = placed_gate(kept_block(**{field: hostile}))
    source = generate_source(project)
    code_tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                   if t.type != tokenize.COMMENT]
    assert not any("pathlib" in text for text in code_tokens)
    exec(compile(source, "generated.py", "exec"), {})  # noqa: S102 (signed by this test)
    assert not canary.exists()


# -- torchcanvas trust ---------------------------------------------------------------------
def test_trust_without_a_terminal_prints_the_source_and_signs_nothing(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    path = untrusted_file(tmp_path, KEPT.replace("return x", "return x  # \u202e hidden"))
    before = path.read_bytes()
    code, out, err = run(capsys, "trust", path)
    assert code == 2 and "--yes" in err
    assert "block 'Gate'" in out and "def forward(self, x):" in out
    assert "\\u{202e}" in out and "\u202e" not in out  # a bidi override is shown, not obeyed
    assert path.read_bytes() == before


def test_trust_yes_signs_in_place_and_validate_then_passes(tmp_path, capsys):
    path = untrusted_file(tmp_path)
    code, out, _ = run(capsys, "trust", path, "--yes")
    assert code == 0 and "signed the kept source of 1 block(s) (Gate)" in out
    assert untrusted_blocks(load_project(path)) == []
    assert run(capsys, "validate", path)[0] == 0
    assert run(capsys, "trust", path)[1].endswith("nothing to trust (no kept source, or all "
                                                  "of it signed here)\n")


def test_trust_asks_on_a_terminal(tmp_path, capsys, monkeypatch):
    path = untrusted_file(tmp_path)
    answers = iter(["n", "y"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert run(capsys, "trust", path)[0] == 1 and untrusted_blocks(load_project(path))
    assert run(capsys, "trust", path)[0] == 0 and not untrusted_blocks(load_project(path))


def test_trust_refuses_a_disallowed_import(tmp_path, capsys):
    path = untrusted_file(tmp_path, imports=[ImportedName(module="subprocess", alias="sp")])
    before = path.read_bytes()
    code, _, err = run(capsys, "trust", path, "--yes")
    assert code == 1 and "subprocess" in err and path.read_bytes() == before
    with pytest.raises(TrustError, match="subprocess"):
        trust_blocks(load_project(path))


def test_trust_never_runs_the_source(tmp_path, capsys):
    canary = tmp_path / "canary"
    path = untrusted_file(tmp_path, payload(canary))
    assert run(capsys, "trust", path, "--yes")[0] == 0
    assert run(capsys, "validate", path)[0] == 0
    assert not canary.exists()


def test_import_signs_what_it_keeps():
    import torch

    from codegen.importer import import_model, recording
    from tests.import_models.kept import KeptParts

    with recording():
        model = KeptParts()
    project = import_model(model, (torch.randn(2, 4),))
    kept = [b for b in project.blocks if b.opaque]
    assert kept and untrusted_blocks(project) == []
    assert all(b.opaque.signature == signed(b.opaque).signature for b in kept)
