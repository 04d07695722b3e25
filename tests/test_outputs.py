"""No command overwrites its input or a project by accident, and the messages around files
say what happened in one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builder.cli import main
from builder.outputs import is_project_file, output_problem
from graph_schema import ProjectError, load_project, project_from_json, save_project
from tests.graphs import chain_edges, node, project

ROOT = Path(__file__).resolve().parent.parent
LENET = ROOT / "examples" / "lenet.json"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def lenet(tmp_path) -> Path:
    path = tmp_path / "lenet.json"
    shutil.copy(LENET, path)
    return path


# -- the rules ---------------------------------------------------------------------------
def test_a_project_is_recognised_by_its_content_not_its_name(tmp_path, lenet):
    renamed = tmp_path / "model.py"
    shutil.copy(lenet, renamed)
    recovery = tmp_path / "r.json"
    recovery.write_text(json.dumps({"torchcanvas_recovery": 1, "project": {}}))
    others = {"code.json": '{"format_version": 1}', "list.json": "[1, 2]",
              "text.py": "print('format_version')", "broken.json": "{nope"}
    for name, text in others.items():
        (tmp_path / name).write_text(text)
    assert is_project_file(renamed) and is_project_file(recovery)
    assert not any(is_project_file(tmp_path / name) for name in others)


@pytest.mark.parametrize("force", [False, True])
def test_the_input_and_projects_are_refused_even_with_force(lenet, tmp_path, force):
    other = tmp_path / "other.json"
    shutil.copy(lenet, other)
    assert "is the input file" in output_problem(lenet, [lenet], force)
    assert "is the input file" in output_problem(tmp_path / "." / "lenet.json", [lenet], force)
    assert "is a TorchCanvas project" in output_problem(other, [lenet], force)


def test_other_files_need_force_and_folders_are_named(tmp_path):
    existing = tmp_path / "model.py"
    existing.write_text("# mine\n")
    assert "exists; pass --force" in output_problem(existing)
    assert output_problem(existing, force=True) is None
    assert "is a folder" in output_problem(tmp_path)
    assert "does not exist" in output_problem(tmp_path / "no" / "x.py")
    assert output_problem(tmp_path / "new.py") is None


def test_import_may_replace_an_older_project_with_force(tmp_path, lenet):
    assert "pass --force to replace it" in output_problem(lenet, writes_project=True)
    assert output_problem(lenet, writes_project=True, force=True) is None


# -- the commands --------------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ["generate", "{p}", "-o", "{p}"],
    ["generate", "{p}", "-o", "{dir}/other.json"],
    ["generate", "{p}", "-o", "{dir}/m.py", "--train-script", "{p}"],
    ["generate", "{p}", "-o", "{dir}/other.json", "--force"],
    ["render", "{p}", "-o", "{dir}/other.json.png", "--force"],
    ["render", "{p}", "-o", "{dir}/mine.svg"],
])
def test_no_command_overwrites_its_input_or_a_project(capsys, qapp, tmp_path, lenet, command):
    other = tmp_path / "other.json"
    shutil.copy(lenet, other)
    shutil.copy(lenet, tmp_path / "other.json.png")  # a project under a picture's name
    (tmp_path / "mine.svg").write_text("<svg/>")
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    args = [a.format(p=lenet, dir=tmp_path) for a in command]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("torchcanvas: ")
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_generate_force_overwrites_an_ordinary_file(capsys, tmp_path, lenet):
    out_file = tmp_path / "model.py"
    out_file.write_text("# an old export\n")
    assert run(capsys, "generate", lenet, "-o", out_file)[0] == 2
    assert out_file.read_text() == "# an old export\n"
    assert run(capsys, "generate", lenet, "-o", out_file, "--force")[0] == 0
    assert "class LeNet5" in out_file.read_text() or "nn.Module" in out_file.read_text()


def test_the_data_loss_of_the_report_is_gone(tmp_path):
    """`torchcanvas generate m.json -o m.json` used to replace the project with code."""
    path = tmp_path / "m.json"
    shutil.copy(LENET, path)
    done = subprocess.run([sys.executable, "-m", "builder", "generate", str(path), "-o",
                           str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "is the input file" in done.stderr
    assert "Traceback" not in done.stderr
    assert path.read_bytes() == LENET.read_bytes()


# -- messages ------------------------------------------------------------------------------
def test_validate_json_reports_an_unusable_file_as_json(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    code, out, err = run(capsys, "validate", "--json", bad)
    report = json.loads(out)
    assert code == 2 and report["usable"] is False and report["valid"] is False
    assert "not valid JSON" in report["error"] and "not valid JSON" in err
    code, out, _ = run(capsys, "validate", "--json", LENET)
    assert code == 0 and json.loads(out)["usable"] is True


def test_newlines_in_names_and_reasons_keep_one_problem_a_line(capsys, tmp_path):
    from tests.kept_blocks import kept_block, placed_gate

    hostile = placed_gate(kept_block(sign=False, reason="line one\nline two\r\n"))
    hostile.networks[0].nodes[1].name = "two\nlines"
    path = tmp_path / "p.json"
    save_project(hostile, path)
    code, out, _ = run(capsys, "validate", path)
    lines = out.splitlines()
    assert code == 1 and all(line.startswith(f"{path}: ") for line in lines)
    assert any("'two\\nlines'" in line for line in lines)


def test_a_deeply_nested_file_gets_a_short_location():
    depth = 2000
    text = ('{"format_version": 4, "networks": [{"name": "n", "nodes": [{"id": "a", '
            '"type": "nn.ReLU", "name": "a", "params": {"x": ' + "[" * depth + "]" * depth
            + "}}]}]}")
    with pytest.raises(ProjectError) as caught:
        project_from_json(text)
    assert len(str(caught.value)) < 300, str(caught.value)


def test_demo_refuses_a_missing_file_before_saying_anything(capsys):
    code, out, err = run(capsys, "demo", "no/such/file.json")
    assert code == 2 and out == "" and err == "torchcanvas: no/such/file.json: no such file\n"


def test_demo_exits_1_on_a_project_with_errors(capsys, qapp, monkeypatch, tmp_path):
    from builder import demo

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setattr(demo.tempfile, "gettempdir", lambda: str(tmp_path))
    assert run(capsys, "demo", ROOT / "examples/broken/cycle.json")[0] == 1


def test_render_lays_out_a_file_without_positions(capsys, qapp, tmp_path):
    from PySide6.QtGui import QImage

    nodes = [node("in", "io.Input", "x", shape=["N", 8]),
             *[node(f"r{i}", "nn.ReLU") for i in range(6)], node("out", "io.Output", "y")]
    path = tmp_path / "flat.json"
    save_project(project(nodes, chain_edges("in", *[f"r{i}" for i in range(6)], "out")), path)
    assert {(n.position.x, n.position.y) for n in load_project(path).networks[0].nodes} == \
        {(0.0, 0.0)}
    code, _, err = run(capsys, "render", path, "-o", tmp_path / "flat.png")
    assert code == 0 and "no node positions; laid it out" in err
    image = QImage(str(tmp_path / "flat.png"))
    assert image.height() > 4 * image.width() / 2  # eight nodes one under another, not a pile


def files_other_tools_wrote() -> list[Path]:
    """JSON, pictures and source that installed packages ship: written by other tools."""
    import PySide6
    import setuptools
    import torch

    found = [*Path(setuptools.__file__).parent.glob("config/*.schema.json"),
             *sorted(Path(PySide6.__file__).parent.glob("Qt/metatypes/*.json"))[:2],
             *sorted(Path(PySide6.__file__).parent.rglob("*.png"))[:1],
             Path(torch.__file__).parent / "nn" / "modules" / "linear.py"]
    return [path for path in found if path.is_file()]


def test_files_other_tools_wrote_are_neither_projects_nor_lost(capsys, tmp_path):
    others = files_other_tools_wrote()
    assert len(others) >= 4, others
    for index, original in enumerate(others):
        copy = tmp_path / f"{index}{original.suffix}"
        shutil.copy(original, copy)
        assert not is_project_file(copy), original
        code, out, err = run(capsys, "validate", copy)
        assert code == 2 and out == "" and err.count("\n") == 1, (original, err)
        assert "Traceback" not in err
        assert "exists; pass --force" in output_problem(copy, [LENET])
        assert output_problem(copy, [LENET], force=True) is None
        assert copy.read_bytes() == original.read_bytes()
