"""`torchcanvas render` and the headless `make run` demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from builder.cli import main
from graph_schema import load_project

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
BROKEN = sorted((ROOT / "examples" / "broken").glob("*.json"))


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_renders(capsys, qapp, tmp_path, path):
    out_file = tmp_path / f"{path.stem}.png"
    code, out, err = run(capsys, "render", path, "-o", out_file)
    assert (code, out) == (0, f"wrote {out_file}\n")
    networks = load_project(path).networks
    # A project of several networks draws the first, and says how to choose another.
    assert err == ("" if len(networks) == 1 else
                   f"{path}: drew network '{networks[0].name}' of {len(networks)} (choose "
                   f"another with --network)\n")
    image = QImage(str(out_file))
    assert image.width() > 300 and image.height() > 300


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_a_broken_project_is_still_drawn_and_its_errors_counted(capsys, qapp, tmp_path, path):
    out_file = tmp_path / f"{path.stem}.svg"
    code, out, err = run(capsys, "render", path, "-o", out_file)
    assert code == 0 and out == f"wrote {out_file}\n"
    assert " error" in err and "shown in the diagram" in err
    assert out_file.read_text().startswith("<?xml")


def test_pdf_dark_theme_and_another_network(capsys, qapp, tmp_path):
    project = tmp_path / "two.json"
    text = (ROOT / "examples" / "mlp.json").read_text()
    import json

    data = json.loads(text)
    second = json.loads(json.dumps(data["networks"][0]))
    second["name"] = "other"
    data["networks"].append(second)
    project.write_text(json.dumps(data))

    code, out, err = run(capsys, "render", project, "-o", tmp_path / "a.pdf", "--theme",
                         "dark", "--network", "other")
    assert code == 0 and err == ""
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF-")
    code, _, err = run(capsys, "render", project, "-o", tmp_path / "b.png")
    assert code == 0 and "drew network" in err and "--network" in err


@pytest.mark.parametrize(("args", "message"), [
    (["examples/lenet.json", "-o", "{tmp}/x.gif"], "use .png, .svg or .pdf"),
    (["examples/lenet.json", "-o", "{tmp}/x.png", "--network", "nope"],
     "no network named 'nope'; the project has lenet5"),
    (["{tmp}/missing.json", "-o", "{tmp}/x.png"], "missing.json: no such file"),
    (["{tmp}/bad.json", "-o", "{tmp}/x.png"], "bad.json: not valid JSON"),
    (["examples/lenet.json", "-o", "{tmp}/no/dir/x.png"], "cannot write"),
])
def test_unusable_input_exits_2_with_one_line(capsys, qapp, tmp_path, monkeypatch, args,
                                              message):
    monkeypatch.chdir(ROOT)
    (tmp_path / "bad.json").write_text("{nope")
    code, out, err = run(capsys, "render", *[a.format(tmp=tmp_path) for a in args])
    assert code == 2 and out == ""
    assert err.startswith("torchcanvas: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "x.png").exists()


def test_layout_spreads_a_file_without_positions(qapp, tmp_path):
    from builder.gui.image_export import lay_out
    from builder.gui.project_document import ProjectDocument, network_key
    from builder.gui.scene import CanvasScene
    from builder.gui.theme import theme_named
    from graph_schema import load_project

    project = load_project(ROOT / "examples" / "resnet18.json")
    for node in project.networks[0].nodes:
        node.position.x = node.position.y = 0.0
    doc = ProjectDocument(project)
    key = network_key(project.networks[0].name)
    lay_out(doc, key)
    scene = CanvasScene(doc, key, theme_named("light"))
    boxes = [item.mapRectToScene(0, 0, *item.size) for item in scene.nodes.values()]
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if a.intersects(b)]
    assert overlapping == []
    scene.detach()


def test_render_chooses_offscreen_itself_without_a_display(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out_file = tmp_path / "lenet.png"
    done = subprocess.run([sys.executable, "-m", "builder", "render", "examples/lenet.json",
                           "-o", str(out_file), "--layout"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out_file}\n"
    assert out_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_headless_demo_shows_validation_summary_code_and_a_diagram(capsys, qapp,
                                                                   monkeypatch, tmp_path):
    from builder import demo

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # the demo sets it; restore it after
    monkeypatch.setattr(demo.tempfile, "gettempdir", lambda: str(tmp_path))
    code = demo.run_demo(str(ROOT / "examples" / "digits_cnn.json"))
    out = capsys.readouterr().out
    assert code == 0
    assert "no display was found" in out
    for section in ("== torchcanvas validate", "== torchcanvas summary",
                    "== torchcanvas generate", "== torchcanvas render"):
        assert section in out
    assert "class " in out and "def forward" in out
    picture = tmp_path / "torchcanvas-demo" / "digits_cnn.png"
    assert f"is in {picture}" in out
    assert not QImage(str(picture)).isNull()
