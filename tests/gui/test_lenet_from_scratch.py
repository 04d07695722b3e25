"""The issue's acceptance walk: a new user draws LeNet-5 from an empty canvas with mouse and
keyboard, sees every shape, fixes a mismatch from its diagnostic, and exports code that runs.

Everything goes through real widgets: the quick-add popup (typed), port-to-port mouse drags,
the inspector's fields (typed, Enter), the diagnostics panel's fix button, File > Export Code.
"""

from __future__ import annotations

import importlib.util

import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from builder.gui.mainwindow import MainWindow
from builder.gui.panels.diagnostics_panel import FIX
from tests.gui.panels_support import retype
from tests.gui.scripted_prompts import ScriptedPrompts
from tests.gui.test_canvas import drag, port_point
from tests.gui.windows import open_window

# (what to type in quick-add, the type it must pick, the inspector's values)
LENET = [
    ("conv2d", "nn.Conv2d", {"out_channels": "6", "kernel_size": "5"}),
    ("tanh", "nn.Tanh", {}),
    ("avgpool2d", "nn.AvgPool2d", {"kernel_size": "2"}),
    ("conv2d", "nn.Conv2d", {"out_channels": "16", "kernel_size": "5"}),
    ("tanh", "nn.Tanh", {}),
    ("avgpool2d", "nn.AvgPool2d", {"kernel_size": "2"}),
    ("flatten", "nn.Flatten", {}),
    ("linear", "nn.Linear", {"out_features": "120"}),
    ("tanh", "nn.Tanh", {}),
    ("linear", "nn.Linear", {"out_features": "84"}),
    ("tanh", "nn.Tanh", {}),
    ("linear", "nn.Linear", {"out_features": "10"}),
]
SHAPES = ["N×1×32×32", "N×6×28×28", "N×6×28×28", "N×6×14×14", "N×16×10×10", "N×16×10×10",
          "N×16×5×5", "N×400", "N×120", "N×120", "N×84", "N×84", "N×10"]
STEP = 110.0


def inspector_field(window: MainWindow, name: str):
    form = window.panels.inspector.form
    assert form is not None, "the inspector shows no node"
    return form.rows[name].editor.edit


def quick_add(qtbot, window: MainWindow, typed: str, at: QPointF) -> str:
    view = window.current_view()
    before = set(view.canvas.nodes)
    window.show_quick_add(at)
    popup = window.quick_add
    QTest.keyClicks(popup.edit, typed)
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    (added,) = set(view.canvas.nodes) - before
    return added


def connect_by_mouse(window: MainWindow, source: str, target: str) -> None:
    view = window.current_view()
    view.centerOn(view.canvas.nodes[source].sceneBoundingRect().center() + QPointF(0, 60))
    drag(window, port_point(window, source, "out"), port_point(window, target, "in"))


def test_draw_lenet_fix_a_mismatch_and_export_code_that_runs(qtbot, tmp_path):
    window = open_window(qtbot, active=True)
    key = window.current_key()
    view = window.current_view()
    view.reset_zoom()
    canvas = view.canvas
    doc = window.doc

    # The input: LeNet reads 32×32 grey images.
    canvas.select_nodes(["n1"])
    retype(qtbot, inspector_field(window, "shape"), "N, 1, 32, 32")

    chain = ["n1"]
    for index, (typed, type_name, values) in enumerate(LENET):
        node = quick_add(qtbot, window, typed, QPointF(0, STEP * (index + 1)))
        assert doc.node(key, node).type == type_name, f"{typed!r} picked the wrong layer"
        for name, text in values.items():
            retype(qtbot, inspector_field(window, name), text)
        chain.append(node)
    chain.append("n2")
    window.controller.move(key, {"n2": doc.node(key, "n2").position.model_copy(
        update={"y": STEP * (len(LENET) + 1)})})

    for source, target in zip(chain, chain[1:]):
        connect_by_mouse(window, source, target)

    labels = [next(item.label for k, item in canvas.edges.items() if k[0] == source)
              for source in chain[:-1]]
    assert labels == SHAPES
    assert not [d for d in doc.diagnostics() if d.is_error]

    # A hand-set in_channels that disagrees with upstream: the panel offers the fix.
    conv2 = chain[4]
    canvas.select_nodes([conv2])
    retype(qtbot, inspector_field(window, "in_channels"), "3")
    panel = window.panels.diagnostics
    (row,) = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    fix = panel.tree.itemWidget(row, FIX)
    assert fix.text() == "Fix: set in_channels=6"
    assert canvas.nodes[conv2].look.severity == "error"
    qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    assert doc.diagnostics() == []
    assert canvas.nodes[conv2].look.severity is None

    # File > Export Code…, and the code runs without TorchCanvas.
    target = tmp_path / "lenet.py"
    window.files.prompts = ScriptedPrompts(window, export_code=[(target, False)])
    assert window.files.exporter.export_code()
    spec = importlib.util.spec_from_file_location("drawn_lenet", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = next(getattr(module, n) for n in dir(module)
                 if isinstance(getattr(module, n), type)
                 and issubclass(getattr(module, n), torch.nn.Module))()
    assert tuple(model(torch.randn(3, 1, 32, 32)).shape) == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == 61_706  # LeNet-5's count
