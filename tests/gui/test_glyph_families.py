"""Glyphs read the same whatever way a layer was written: F.relu draws as an activation, not a
grey tensor op; inputs and outputs have their own icons; cat says "cat"; a badge never sits on
a port; unset parameters never print as "None". Looks are built by the app's own node_look and
painted by its own painter, on real torch and real Qt."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from builder.gui.glyphs import (
    PORT_RADIUS,
    NodeLook,
    badge_rect,
    node_size,
    paint_node,
    port_position,
)
from builder.gui.icons import paint_family_icon
from builder.gui.looks import node_look
from builder.gui.theme import FAMILY_COLORS, LIGHT
from codegen import import_model
from graph_schema.catalog import all_specs, get_spec
from graph_schema.document import Node, Position
from graph_schema.session import Session, network_key, new_project
from tests.gui.windows import open_window
from tests.import_models.functional import FunctionalNet


def look_of(type_name: str, params: dict | None = None) -> NodeLook:
    """The look of a lone node of this type, inferred as the app infers it."""
    project = new_project()
    node = Node(id="lone", type=type_name, name="layer", params=params or {},
                position=Position(x=400, y=0))
    project.networks[0].nodes.append(node)
    state = Session(project).analysis(network_key("main")).inference.states[node.id]
    return node_look(project, node, state, [], set())


def torch_counterparts() -> dict[str, str]:
    """op type -> nn type, found from torch's own names: the function the op calls exists in
    torch, and torch.nn has a module of the same name (relu / ReLU, max_pool2d / MaxPool2d)
    that the catalog also knows."""
    modules = {name.replace("_", "").lower(): name for name in dir(torch.nn)
               if isinstance(getattr(torch.nn, name), type)
               and issubclass(getattr(torch.nn, name), torch.nn.Module)}
    found = {}
    for spec in all_specs():
        call = spec.call
        if not spec.type.startswith("op.") or call is None or call.kind != "function":
            continue
        owner, _, function = call.name.rpartition(".")
        assert hasattr({"F": F, "torch": torch}[owner], function), call.name
        module = modules.get(function.replace("_", "").lower())
        if module is not None and get_spec(f"nn.{module}") is not None:
            found[spec.type] = f"nn.{module}"
    return found


def test_every_functional_op_with_an_nn_counterpart_draws_as_that_layer():
    counterparts = torch_counterparts()
    assert {"op.relu", "op.tanh", "op.max_pool2d", "op.softmax", "op.gelu"} <= set(counterparts)
    for op_type, layer_type in counterparts.items():
        look = look_of(op_type)
        expected = get_spec(layer_type).family
        assert look.family == expected, f"{op_type} draws as {look.family}, not {expected}"
        assert look.functional, op_type
        assert look.type_label == op_type.split(".", 1)[1] + "()"
        assert not look_of(layer_type).functional  # the module itself is not marked


def test_functional_ops_named_unlike_their_layer_still_find_its_family():
    assert look_of("op.interpolate", {"scale_factor": 2}).family == "resample"
    assert look_of("op.pad", {"pad": [1, 1]}).family == "padding"
    # Ops no layer does stay tensor ops, unmarked.
    for op_type in ("op.exp", "op.clamp", "op.matmul"):
        look = look_of(op_type)
        assert look.family in ("op", "merge") and not look.functional, op_type


def paint(look: NodeLook) -> QImage:
    size = node_size(look)
    image = QImage(int(size[0]) + 40, int(size[1]) + 40, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.translate(20, 20)
    paint_node(painter, look, size, LIGHT)
    painter.end()
    return image


def test_a_functional_relu_is_painted_in_the_activation_colour_with_a_mark():
    functional, module = paint(look_of("op.relu")), paint(look_of("nn.ReLU"))
    activation = FAMILY_COLORS["activation"]
    band_point = (20 + 4, 20 + 4)  # inside the coloured band, near its top corner
    assert module.pixelColor(*band_point).name() == activation
    assert functional.pixelColor(20 + 2, 20 + 30).name() == activation
    # The ƒ mark: white strokes in the band's top corner that the module's band lacks.
    def white_in_corner(image):
        return sum(image.pixelColor(x, y).lightness() > 200
                   for x in range(20 + 8, 20 + 22) for y in range(20 + 2, 20 + 14))
    assert white_in_corner(functional) > 5 and white_in_corner(module) == 0


def test_an_imported_functional_model_shows_activations_and_pools(qtbot):
    project = import_model(FunctionalNet().eval(), (torch.zeros(1, 1, 28, 28),))
    window = open_window(qtbot, project=project)
    looks = {item.look.name: item.look for item in window.current_view().canvas.nodes.values()}
    assert looks["relu"].family == "activation" and looks["relu"].type_label == "relu()"
    assert looks["max_pool2d"].family == "pool" and looks["max_pool2d"].functional
    assert looks["log_softmax"].family == "activation"
    assert looks["conv1"].family == "conv" and not looks["conv1"].functional


def icon_image(name: str) -> QImage:
    image = QImage(40, 40, QImage.Format.Format_ARGB32)
    image.fill(QColor("#000000"))
    painter = QPainter(image)
    paint_family_icon(painter, name, QRectF(0, 0, 40, 40), QColor("#ffffff"))
    painter.end()
    return image


def test_inputs_and_outputs_have_their_own_icons_and_the_output_shows_its_shape(qtbot):
    assert icon_image("input") != icon_image("output")
    assert icon_image("output") != icon_image("op")  # a real drawing, not the fallback
    window = open_window(qtbot, "mlp.json")
    key, canvas = window.current_key(), window.current_view().canvas
    graph = window.doc.graph(key)
    (x,) = [n for n in graph.nodes if n.type == "io.Input"]
    (out,) = [n for n in graph.nodes if n.type == "io.Output"]
    assert canvas.nodes[x.id].look.icon == "input"
    assert canvas.nodes[out.id].look.icon == "output"
    assert canvas.nodes[out.id].look.detail == "N×10"  # what the network returns there
    window.controller.disconnect(key, [e for e in graph.edges if e.target == out.id])
    assert canvas.nodes[out.id].look.detail == ""  # nothing arrives: nothing to show


def test_cat_and_stack_say_what_they_join_and_along_which_dimension():
    cat = look_of("op.cat", {"dim": 1})
    assert (cat.operator, cat.detail) == ("cat", "dim=1")
    assert look_of("op.cat").detail == "dim=0"  # the default is the point too
    assert look_of("op.stack", {"dim": 2}).operator == "stack"
    assert look_of("op.add").operator == "+" and look_of("op.add").detail == ""


def covered_ports(look: NodeLook) -> list[tuple[str, int]]:
    size = node_size(look)
    badge = badge_rect(look, size)
    centre, reach = badge.center(), badge.width() / 2 + PORT_RADIUS
    covered = []
    for kind, count in (("in", look.inputs), ("out", look.outputs)):
        for index in range(count):
            gap = port_position(look, size, kind, index) - centre
            if QPointF.dotProduct(gap, gap) < reach * reach:  # the two discs overlap
                covered.append((kind, index))
    return covered


def test_a_badge_never_covers_a_port():
    for inputs in range(1, 9):
        for severity in ("error", "warning"):
            merge = NodeLook("merge", "cat", "dim=1", "merge", inputs, 1, operator="cat",
                             severity=severity)
            box = NodeLook("layer", "Conv2d", "16 · k3", "conv", inputs, 2, severity=severity)
            assert covered_ports(merge) == [], f"merge with {inputs} inputs"
            assert covered_ports(box) == [], f"box with {inputs} inputs"


def test_unset_parameters_read_as_a_question_mark_or_not_at_all():
    assert look_of("nn.MaxPool2d").detail == "k?"  # the kernel must still be given
    assert "None" not in look_of("op.interpolate", {"scale_factor": 2}).detail
    assert look_of("nn.Linear").detail == "?"
    for spec in all_specs():
        detail = look_of(spec.type).detail
        assert "None" not in detail, f"{spec.type}: {detail!r}"
