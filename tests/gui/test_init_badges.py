"""The init check on the canvas: a badge on exactly the layers whose activations vanish or
explode at initialisation, their numbers in the tooltip, a block instance summing up the
layers inside it; kept while the drawing only moves, dropped at the first edit of the model;
never on a port or the diagnostic badge, in either flow."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QTabBar

from builder.gui.flow_action import set_flow
from builder.gui.glyphs import (
    PORT_RADIUS,
    NodeLook,
    badge_rect,
    init_badge_rect,
    merge_label_rect,
    node_size,
    port_position,
)
from builder.gui.init_badges import InitBadges
from builder.gui.init_glyph import INIT_COLOR
from builder.gui.items import NodeItem
from builder.gui.mainwindow import MainWindow
from builder.gui.project_document import block_key, network_key
from graph_schema.document import Position
from tests.gui.init_support import init_check_event
from tests.gui.windows import open_window


def layer(
    name: str,
    std: float = 0.5,
    near_zero: float = 0.0,
    vanishing: bool = False,
    exploding: bool = False,
    reason: str = "",
    type_: str = "Linear",
) -> dict:
    return {
        "name": name,
        "type": type_,
        "shape": [16, 8],
        "mean": 0.01,
        "std": std,
        "near_zero": near_zero,
        "vanishing": vanishing,
        "exploding": exploding,
        "reason": reason,
    }


VANISHING = dict(
    std=3.1e-07, near_zero=0.98, vanishing=True, reason="dead: 98% of its outputs are zero"
)
EXPLODING = dict(std=412.0, exploding=True, reason="exploding: output std 412 (above 100)")
# lenet5: c1 act1 s2 c3 act3 s4 flatten c5 act5 f6 act6 output (n1..n12); c5 vanishes, f6
# explodes, the others are fine; the input and the output are not modules.
LENET_LAYERS = [
    layer("c1"),
    layer("act1"),
    layer("s2"),
    layer("c3"),
    layer("act3"),
    layer("s4"),
    layer("flatten"),
    layer("c5", **VANISHING),
    layer("act5"),
    layer("f6", **EXPLODING),
    layer("act6"),
    layer("output"),
]


def badges_on(qtbot, example: str) -> tuple[MainWindow, InitBadges]:
    window = open_window(qtbot, example)
    return window, InitBadges(window.doc, window.tabs, window.statusBar())


def canvas(window: MainWindow, key=None):
    view = window.tabs.view_for(key) if key else window.current_view()
    return view.canvas


def flagged(scene) -> dict[str, str]:
    return {n: item.look.init_flag for n, item in scene.nodes.items() if item.look.init_flag}


def init_pixels(scene, item: NodeItem) -> int:
    """Pixels of the init badge's colour where the node's init badge goes, as painted."""
    rect = item.mapRectToScene(init_badge_rect(item.look, item.size, item.flow))
    image = QImage(64, 64, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    scene.render_to(painter, QRectF(0, 0, 64, 64), rect)
    painter.end()
    wanted = QColor(INIT_COLOR)
    return sum(1 for x in range(64) for y in range(64) if _near(QColor(image.pixel(x, y)), wanted))


def _near(a: QColor, b: QColor) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) < 24


def test_badges_go_on_exactly_the_flagged_layers_with_their_numbers(qtbot):
    window, badges = badges_on(qtbot, "lenet.json")
    scene = canvas(window)
    untouched = {n: item.toolTip() for n, item in scene.nodes.items()}
    assert badges.set_init_stats(window.current_key(), LENET_LAYERS) == []
    assert flagged(scene) == {"n8": "vanish", "n10": "explode"}
    assert scene.nodes["n8"].toolTip() == (
        "c5 (nn.Linear)\nactivations vanish at init: std 3.1e-07, 98% near zero — "
        "dead: 98% of its outputs are zero"
    )
    assert (
        scene.nodes["n10"]
        .toolTip()
        .endswith(
            "activations explode at init: std 412, 0% near zero — "
            "exploding: output std 412 (above 100)"
        )
    )
    # Unflagged layers: no badge, but their numbers are in the tooltip.
    assert (
        scene.nodes["n1"].toolTip()
        == "c1 (nn.Conv2d)\nactivations at init: mean 0.01, std 0.5, 0% near zero"
    )
    for node_id in ("n0", "n13"):  # not modules: not reported, nothing added
        assert scene.nodes[node_id].toolTip() == untouched[node_id]
    assert init_pixels(scene, scene.nodes["n8"]) > 40
    assert init_pixels(scene, scene.nodes["n10"]) > 40
    assert init_pixels(scene, scene.nodes["n1"]) == 0


def test_none_clears_the_badges_and_the_numbers(qtbot):
    window, badges = badges_on(qtbot, "lenet.json")
    scene, key = canvas(window), window.current_key()
    untouched = {n: item.toolTip() for n, item in scene.nodes.items()}
    badges.set_init_stats(key, LENET_LAYERS)
    badges.set_init_stats(key, None)
    assert flagged(scene) == {}
    assert {n: item.toolTip() for n, item in scene.nodes.items()} == untouched
    assert init_pixels(scene, scene.nodes["n8"]) == 0
    assert badges.marks(key) == {}


def test_layers_inside_a_block_are_summed_up_on_its_instance(qtbot):
    window, badges = badges_on(qtbot, "resnet18.json")
    scene = canvas(window)
    unmatched = badges.set_init_stats(
        window.current_key(),
        [
            layer("conv1", type_="Conv2d"),
            layer("layer1_0.conv1", type_="Conv2d", **VANISHING),
            layer("layer1_0.bn1", type_="BatchNorm2d", **VANISHING),
            layer("layer1_0.relu1", type_="ReLU"),
            layer("layer2_0.conv1", type_="Conv2d", **EXPLODING),
            layer("layer2_0.shortcut_conv", type_="Conv2d", **VANISHING),
            layer("layer3_0.conv1", std=0.25, type_="Conv2d"),
            layer("layer3_0.bn1", std=1.0, type_="BatchNorm2d"),
            layer("head.fc"),  # nothing drawn is called head
        ],
    )
    assert unmatched == ["head.fc"]
    assert flagged(scene) == {"l10": "vanish", "l20": "both"}
    assert scene.nodes["l10"].toolTip().splitlines()[1:] == [
        "2 layers inside vanish at init (3 checked)",
        "  conv1 (Conv2d): std 3.1e-07, 98% near zero — dead: 98% of its outputs are zero",
        "  bn1 (BatchNorm2d): std 3.1e-07, 98% near zero — dead: 98% of its outputs are zero",
    ]
    assert (
        scene.nodes["l20"].toolTip().splitlines()[1]
        == "1 layer inside vanishes and 1 explodes at init (2 checked)"
    )
    assert (
        scene.nodes["l30"].toolTip().splitlines()[1]
        == "init check: 2 layers inside, none flagged (std 0.25 to 1)"
    )
    assert "init" not in scene.nodes["l11"].toolTip()  # not reported
    assert init_pixels(scene, scene.nodes["l20"]) > 30


def test_an_edit_inside_a_placed_block_clears_the_networks_badges(qtbot):
    window, badges = badges_on(qtbot, "resnet18.json")
    key = window.current_key()
    badges.set_init_stats(key, [layer("layer1_0.conv1", type_="Conv2d", **VANISHING)])
    with qtbot.waitSignal(badges.stats_cleared) as cleared:
        window.controller.set_param(block_key("BasicBlock"), "c1", "bias", True)
    assert cleared.args[0] == key
    assert flagged(canvas(window)) == {}


def test_badges_survive_a_rebuild_auto_layout_a_new_flow_and_a_move(qtbot):
    window, badges = badges_on(qtbot, "lenet.json")
    scene, key = canvas(window), window.current_key()
    badges.set_init_stats(key, LENET_LAYERS)
    tooltip = scene.nodes["n8"].toolTip()
    scene.rebuild()
    assert flagged(scene) == {"n8": "vanish", "n10": "explode"}
    window.structure.auto_layout()
    assert set_flow(window.controller, "right") is not None
    assert scene.nodes["n8"].flow == "right"
    window.controller.move(key, {"n8": Position(x=900, y=40)})
    window.controller.set_node_field(key, "n8", "notes", "from the paper's table 1")
    assert flagged(scene) == {"n8": "vanish", "n10": "explode"}
    assert scene.nodes["n8"].toolTip() == f"{tooltip}\nfrom the paper's table 1"
    assert init_pixels(scene, scene.nodes["n8"]) > 40  # drawn where the right flow puts it
    window.controller.undo_stack.undo()  # a move undone changes no layer either
    assert len(badges.marks(key)) == 12


def test_a_canvas_opened_again_shows_its_badges(qtbot):
    window, badges = badges_on(qtbot, "digits_gan.json")
    key = network_key("generator")
    (first,) = [n.name for n in window.doc.graph(key).nodes if n.type == "nn.Linear"][:1]
    badges.set_init_stats(key, [layer(first, **VANISHING)])
    index = window.tabs.indexOf(window.tabs.view_for(key))
    close = window.tabs.tabBar().tabButton(index, QTabBar.ButtonPosition.RightSide)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    assert window.tabs.view_for(key) is None
    window.tabs.open_graph(key)
    assert list(flagged(canvas(window, key)).values()) == ["vanish"]


def test_an_edit_of_the_model_clears_the_badges_and_says_so(qtbot):
    window, badges = badges_on(qtbot, "lenet.json")
    scene, key = canvas(window), window.current_key()
    badges.set_init_stats(key, LENET_LAYERS)
    with qtbot.waitSignal(badges.stats_cleared) as cleared:
        window.controller.set_param(key, "n10", "out_features", 64)
    assert cleared.args == [key, "Init check of 'lenet5' cleared: the model changed since it ran"]
    assert window.statusBar().currentMessage() == cleared.args[1]
    assert flagged(scene) == {}
    assert "activations" not in scene.nodes["n1"].toolTip()
    window.controller.undo_stack.undo()  # the numbers were for the model before the edit
    assert flagged(scene) == {} and badges.marks(key) == {}


def test_bad_stats_are_refused_with_a_message(qtbot):
    window, badges = badges_on(qtbot, "lenet.json")
    with pytest.raises(ValueError, match="layer 1 has no name"):
        badges.set_init_stats(window.current_key(), [layer("c1"), {"std": 1.0}])
    with pytest.raises(ValueError, match="no network named 'gone'"):
        badges.set_init_stats(network_key("gone"), [])


# -- never on a port or the diagnostic badge ---------------------------------------------
def _port_discs(look: NodeLook, size, flow) -> list[QPointF]:
    return [
        port_position(look, size, kind, index, flow)
        for kind, count in (("in", look.inputs), ("out", look.outputs))
        for index in range(count)
    ]


def _clear_of_everything(look: NodeLook, flow: str) -> list[str]:
    """What the init badge of ``look`` touches: a port, the diagnostic badge, a merge's name,
    or the outside of the area the node item paints."""
    size = node_size(look, flow)
    badge = init_badge_rect(look, size, flow)
    centre, reach = badge.center(), badge.width() / 2 + PORT_RADIUS
    problems = [
        f"port at {p.x():.0f},{p.y():.0f}"
        for p in _port_discs(look, size, flow)
        if math.dist((p.x(), p.y()), (centre.x(), centre.y())) < reach
    ]
    if badge.intersects(badge_rect(look, size, flow)):
        problems.append("the diagnostic badge")
    if look.is_merge and badge.intersects(merge_label_rect(look, size, flow)[0]):
        problems.append("the name")
    item = NodeItem("x", look, None)
    item.flow, item.size = flow, size
    if not item.boundingRect().contains(badge):
        problems.append("outside the painted area")
    return problems


@pytest.mark.parametrize("flow", ["down", "right"])
def test_the_init_badge_never_covers_a_port_or_the_diagnostic_badge(qapp, flow):
    looks = [
        NodeLook(
            name, "Linear", detail, family, inputs, outputs, severity="error", init_flag="both"
        )
        for name in ("x", "a_much_longer_layer_name")
        for detail in ("", "64 · k3")
        for family in ("linear", "block")
        for inputs in range(1, 7)
        for outputs in range(1, 7)
    ]
    looks += [
        NodeLook(
            "merge",
            "cat",
            "dim=1",
            "merge",
            inputs,
            1,
            operator=operator,
            severity="warning",
            init_flag="vanish",
        )
        for inputs in range(1, 12)
        for operator in ("+", "cat")
    ]
    for look in looks:
        assert _clear_of_everything(look, flow) == [], (look, flow)


@pytest.mark.parametrize("flow", ["down", "right"])
def test_a_node_with_an_error_and_an_init_flag_shows_both_badges_apart(qtbot, flow):
    window, badges = badges_on(qtbot, "broken/cat_spatial_mismatch.json")
    key = window.current_key()
    if flow == "right":
        set_flow(window.controller, "right")
    badges.set_init_stats(
        key, [layer("down", **VANISHING), layer("skip", **EXPLODING), layer("merge", **VANISHING)]
    )
    scene = canvas(window)
    for node_id in ("a", "b", "cat"):
        item = scene.nodes[node_id]
        assert item.flow == flow and item.look.init_flag
        init = item.mapRectToScene(init_badge_rect(item.look, item.size, flow))
        for kind, count in (("in", item.look.inputs), ("out", item.look.outputs)):
            for index in range(count):
                port = item.port_scene_pos(kind, index)
                assert (
                    math.dist((port.x(), port.y()), (init.center().x(), init.center().y()))
                    >= init.width() / 2 + PORT_RADIUS
                ), (node_id, kind, index)
        if item.look.severity:
            assert not init.intersects(item.mapRectToScene(badge_rect(item.look, item.size, flow)))
        assert item.sceneBoundingRect().contains(init)  # repainted with the node
    assert scene.nodes["cat"].look.severity == "error"
    assert init_pixels(scene, scene.nodes["cat"]) > 30


# -- real numbers from the init check itself -----------------------------------------------
def test_real_init_statistics_of_a_badly_initialised_lenet(qtbot, tmp_path):
    event = init_check_event("lenet.json", "Linear", 1e-4)  # a child process runs torch
    assert event["event"] == "init_check"
    window, badges = badges_on(qtbot, "lenet.json")
    scene = canvas(window)
    assert badges.set_init_stats(window.current_key(), event["layers"]) == []
    reported_flagged = {
        entry["name"] for entry in event["layers"] if entry["vanishing"] or entry["exploding"]
    }
    names = {n.id: n.name for n in window.doc.graph(window.current_key()).nodes}
    assert {names[n] for n in flagged(scene)} == reported_flagged
    # The tiny Linear weights starve everything from the first Linear on; the convolutions
    # before it are fine.
    assert reported_flagged == {"c5", "act5", "f6", "act6", "output"}
    assert (
        scene.nodes["n8"]
        .toolTip()
        .splitlines()[1]
        .startswith("activations vanish at init: std 5.3e-06")
    )
    assert scene.nodes["n1"].toolTip().splitlines()[1].startswith("activations at init: mean")
    view = window.current_view()
    view.reset_zoom()  # at 100 %: far out, nodes are coloured boxes without badges
    view.center_on(scene.nodes["n8"].sceneBoundingRect().center())
    shot = tmp_path / "init_badges.png"
    assert view.viewport().grab().save(str(shot))
    assert shot.stat().st_size > 0
