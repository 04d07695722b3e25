"""Every graph the project ships or imports is drawn with no edge through a node it does not
join and no shape label on a node or on another label (issue 15): every network and block of
every example, as stored and after Auto Layout (as the app lays them out), the broken
examples as stored, and imported residual models (a torchvision-style ResNet and its
BasicBlock, a transformer layer from Hugging Face when it is installed).

What is checked is what the canvas paints (tests/gui/route_support.py), in a CanvasScene of
the app's own document.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.gui.arrange import relayout_project
from builder.gui.kept_view_scene import kept_block
from builder.gui.project_document import ProjectDocument
from builder.gui.scene import CanvasScene
from builder.gui.theme import theme_named
from graph_schema import load_project
from tests.gui.route_support import drawn_problems

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def problems_in(project) -> list[str]:
    """Every drawing problem in every graph of ``project`` (kept-source blocks draw a
    recorded view instead, without routes)."""
    doc = ProjectDocument(project)
    found = []
    for key in doc.graph_keys():
        if kept_block(doc, key) is not None:
            continue
        scene = CanvasScene(doc, key, theme_named("light"))
        try:
            found += [f"{key[0]} {key[1]!r}: {problem}" for problem in drawn_problems(scene)]
        finally:
            scene.detach()
            scene.deleteLater()
    return found


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_an_example_is_drawn_round_its_nodes_as_stored_and_laid_out(qapp, path):
    project = load_project(path)
    assert problems_in(project) == []
    assert problems_in(relayout_project(project)) == []


@pytest.mark.parametrize("path", sorted((EXAMPLES / "broken").glob("*.json")),
                         ids=lambda p: p.stem)
def test_a_broken_example_is_drawn_round_its_nodes(qapp, path):
    assert problems_in(load_project(path)) == []


def test_an_imported_resnet_is_drawn_round_its_nodes(qapp):
    torch = pytest.importorskip("torch")
    from codegen import import_model
    from tests.import_models.resnet import BasicBlock, ResNet

    torch.manual_seed(0)
    resnet = import_model(ResNet(num_blocks=(1, 1, 1)), (torch.randn(1, 3, 16, 16),))
    block = import_model(BasicBlock(8, 16, stride=2), (torch.randn(1, 8, 16, 16),))
    assert len(resnet.blocks) >= 2  # the blocks, with their shortcuts, are drawn too
    for project in (resnet, block):
        assert problems_in(project) == []
        assert problems_in(relayout_project(project)) == []


def test_an_imported_transformer_layer_is_drawn_round_its_nodes(qapp):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from transformers.models.vit.modeling_vit import ViTLayer

    from codegen import import_model

    config = transformers.ViTConfig(hidden_size=32, num_hidden_layers=1,
                                    num_attention_heads=2, intermediate_size=64,
                                    attention_probs_dropout_prob=0.0)
    config._attn_implementation = "sdpa"
    project = import_model(ViTLayer(config), (torch.randn(2, 8, 32),))
    assert problems_in(project) == []
    assert problems_in(relayout_project(project)) == []
