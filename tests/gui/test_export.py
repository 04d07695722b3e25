"""Export Code and Export Diagram from a real window offscreen."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QImage
from torch import nn

from builder.gui.app import Windows
from builder.gui.image_export import MARGIN, PNG_SCALE
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import ProjectDocument, network_key
from builder.gui.theme import theme_named
from graph_schema import load_project
from tests.gui.scripted_prompts import script

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def window_on(qtbot):
    def make(example: str) -> MainWindow:
        path = EXAMPLES / example
        window = Windows().new_window(ProjectDocument(load_project(path), path))
        qtbot.addWidget(window)
        script(window)
        return window
    return make


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_export_code_writes_a_module_that_imports_and_builds(window_on, tmp_path):
    window = window_on("lenet.json")
    target = tmp_path / "lenet_model.py"
    prompts = window.files.prompts.answer("export_code", (target, True))

    assert window.files.exporter.export_code()

    assert prompts.errors == []
    module = import_file(target)
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ ==
               module.__name__]
    (model_class,) = classes
    model = model_class()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 10)
    script_path = tmp_path / "train_lenet_model.py"
    source = script_path.read_text()
    ast.parse(source)
    assert "from lenet_model import" in source
    assert "lenet_model.py" in window.statusBar().currentMessage()


def test_export_code_refuses_a_project_with_errors_and_lists_them(window_on, tmp_path):
    window = window_on("broken/wrong_in_channels.json")

    assert not window.files.exporter.export_code()

    (error,) = window.files.prompts.errors
    assert "1 error(s)" in error
    assert "node 'conv2' (nn.Conv2d), input 0: expected dimension 1 to be 8" in error
    assert window.files.prompts.asked == []  # refused before asking where to write
    assert list(tmp_path.iterdir()) == []


def test_export_code_to_an_unwritable_place_says_why(window_on, tmp_path):
    window = window_on("mlp.json")
    window.files.prompts.answer("export_code", (tmp_path / "missing" / "m.py", False))
    assert not window.files.exporter.export_code()
    (error,) = window.files.prompts.errors
    assert "cannot write" in error and "missing/m.py" in error and "does not exist" in error


def expected_png_size(window: MainWindow) -> tuple[int, int]:
    """The scene's drawing plus the margin, at PNG_SCALE pixels per unit."""
    rect = window.current_view().canvas.itemsBoundingRect()
    width = int(-(-(rect.width() + 2 * MARGIN) // 1))
    height = int(-(-(rect.height() + 2 * MARGIN) // 1))
    return width * PNG_SCALE, height * PNG_SCALE


def test_export_diagram_writes_png_svg_and_pdf(window_on, tmp_path):
    window = window_on("resnet18.json")
    prompts = window.files.prompts
    for suffix in (".png", ".svg", ".pdf"):
        prompts.answer("diagram_path", tmp_path / f"resnet{suffix}")
        assert window.files.exporter.export_diagram()
    assert prompts.errors == []

    image = QImage(str(tmp_path / "resnet.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == expected_png_size(window)
    assert image.pixelColor(2, 2) == window.theme.background  # the margin is background
    svg = (tmp_path / "resnet.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "layer2_0" in svg
    pdf = (tmp_path / "resnet.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"/MediaBox" in pdf and len(pdf) > 1000


def test_blocks_open_on_the_canvas_are_exported_open(window_on, tmp_path):
    window = window_on("resnet18.json")
    prompts = window.files.prompts.answer("diagram_path", tmp_path / "closed.png",
                                          tmp_path / "open.png")
    assert window.files.exporter.export_diagram()
    canvas = window.current_view().canvas
    canvas.inline.open(("l10",))
    assert window.files.exporter.export_diagram()

    closed, opened = QImage(str(tmp_path / "closed.png")), QImage(str(tmp_path / "open.png"))
    assert (opened.width(), opened.height()) == expected_png_size(window)  # as on the canvas
    assert opened.height() > closed.height() + 400  # the frame and its body are in it
    assert set(canvas.inline.frames) == {"l10"}  # the canvas is left as it was
    assert prompts.errors == []


def test_the_exported_diagram_does_not_show_the_selection(window_on, tmp_path):
    window = window_on("lenet.json")
    canvas = window.current_view().canvas
    prompts = window.files.prompts.answer("diagram_path", tmp_path / "plain.png",
                                          tmp_path / "selected.png")
    assert window.files.exporter.export_diagram()
    canvas.select_nodes(list(canvas.nodes)[:3])
    assert window.files.exporter.export_diagram()

    assert QImage(str(tmp_path / "plain.png")) == QImage(str(tmp_path / "selected.png"))
    assert len(canvas.selected_node_ids()) == 3  # the user's selection survives the export
    assert prompts.errors == []


def test_the_diagram_follows_the_theme_and_shows_diagnostics(window_on, tmp_path):
    window = window_on("broken/wrong_in_channels.json")
    window.set_theme("dark")
    window.files.prompts.answer("diagram_path", tmp_path / "dark.png")
    assert window.files.exporter.export_diagram()
    image = QImage(str(tmp_path / "dark.png"))
    assert image.pixelColor(2, 2) == theme_named("dark").background
    red = sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
              if image.pixelColor(x, y).name() == "#d62828")
    assert red > 50  # the mismatched edge and the error badge


def test_export_diagram_to_an_unwritable_place_says_why(window_on, tmp_path):
    window = window_on("mlp.json")
    window.files.prompts.answer("diagram_path", tmp_path / "missing" / "d.png")
    assert not window.files.exporter.export_diagram()
    (error,) = window.files.prompts.errors
    assert "cannot write" in error and "d.png" in error
    assert window.doc.has_graph(network_key(window.doc.project.networks[0].name))
