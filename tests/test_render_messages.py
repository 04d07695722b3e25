"""`torchcanvas render --with-messages`: each node's diagnostics in words beside its badge,
in boxes that cover no node, no shape label and no other box."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from builder.cli import main
from builder.gui.message_callouts import add_callouts, body_of
from builder.gui.project_document import ProjectDocument
from builder.gui.scene import CanvasScene
from builder.gui.theme import theme_named
from graph_schema import load_project

BROKEN = Path(__file__).resolve().parent.parent / "examples" / "broken"


def callouts_of(path: Path):
    doc = ProjectDocument(load_project(path))
    key = doc.graph_keys()[0]
    scene = CanvasScene(doc, key, theme_named("light"))
    return doc, key, scene, add_callouts(scene, theme_named("light"))


@pytest.mark.parametrize("path", sorted(BROKEN.glob("*.json")), ids=lambda p: p.stem)
def test_every_badge_gets_its_messages_where_nothing_else_is(qapp, path):
    doc, key, scene, callouts = callouts_of(path)
    try:
        by_node = doc.analysis(key).by_node
        assert len(callouts) == len([n for n in by_node if n in scene.nodes])
        taken = [body_of(item) for item in scene.nodes.values()]
        taken += [item.label_rect() for item in scene.edges.values()]
        for callout in callouts:
            for rect in taken:
                assert not callout.rect.intersects(rect), callout.text
            taken.append(callout.rect)
            for edge in scene.edges.values():  # and here, off the lines too
                points = edge.polyline()
                for a, b in zip(points, points[1:]):
                    assert not callout.rect.intersects(QRectF(a, b).normalized().adjusted(
                        -0.5, -0.5, 0.5, 0.5)), callout.text
            line = callout.leader()  # the leader starts at the node's badge
            assert body_of(scene.nodes[callout.node_id]).adjusted(-12, -12, 12, 12).contains(
                line.p1())
        words = " ".join(callout.text for callout in callouts)
        for diagnostics in by_node.values():
            assert all(d.message in words for d in diagnostics)
    finally:
        scene.detach()


def test_the_flag_adds_the_words_to_the_picture_only(capsys, qapp, tmp_path):
    path = BROKEN / "residual_without_projection.json"
    plain, worded = tmp_path / "plain.png", tmp_path / "worded.png"
    assert main(["render", str(path), "-o", str(plain)]) == 0
    assert main(["render", str(path), "-o", str(worded), "--with-messages"]) == 0
    out = capsys.readouterr().out
    assert out == f"wrote {plain}\nwrote {worded}\n"
    # The words need room: the picture grows (to the right of the add, where its badge is).
    assert QImage(str(worded)).width() > QImage(str(plain)).width()
    assert load_project(path) is not None  # the file itself is untouched
