"""generate_source from a session: the same source as from the project, without validating
or inferring the project again (the app's code panel and export pass the document's session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen import GenerationError, generate_source
from codegen.generate import build_classes
from graph_schema import load_project
from graph_schema.inference import Inference
from graph_schema.session import Session, block_key, network_key

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))  # each one generates


@pytest.fixture
def inferences_made(monkeypatch) -> list[Inference]:
    """Every Inference built from now on (the real constructor runs; it is only counted)."""
    made: list[Inference] = []
    real = Inference.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(Inference, "__init__", counted)
    return made


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_session_gives_the_same_source_as_its_project(path):
    project = load_project(path)
    assert generate_source(Session(project)) == generate_source(project)


def test_the_sessions_own_inferences_are_used(inferences_made):
    session = Session(load_project(ROOT / "examples" / "resnet18.json"))
    inferences_made.clear()
    built = build_classes(session)
    assert built.networks["resnet18"].primary is \
        session.analysis(network_key("resnet18")).inference
    # Only the block bodies are inferred again, per placement, for their constructor values;
    # the network and the diagnostics come from the session.
    assert {i.network.name for i in inferences_made} == {"BasicBlock", "DownsampleBlock"}
    inferences_made.clear()
    build_classes(session.project)
    assert "resnet18" in {i.network.name for i in inferences_made}


def test_a_session_is_not_inferred_again(inferences_made):
    session = Session(load_project(ROOT / "examples" / "mlp.json"))
    inferences_made.clear()
    generate_source(session)
    assert inferences_made == []
    generate_source(session.project)  # the old call form validates and infers it all
    assert inferences_made


def test_an_edited_session_generates_what_its_project_does_fresh():
    session = Session(load_project(ROOT / "examples" / "resnet18.json"))
    block = session.graph(block_key("BasicBlock"))
    conv = next(n for n in block.nodes if n.type == "nn.Conv2d")
    session.update_node(block_key("BasicBlock"), conv.id, {"name": "first_conv"})
    source = generate_source(session)
    assert "first_conv" in source
    assert source == generate_source(session.project.model_copy(deep=True))


def test_a_session_with_errors_is_refused_with_its_own_diagnostics():
    session = Session(load_project(ROOT / "examples" / "broken" / "wrong_in_channels.json"))
    with pytest.raises(GenerationError) as caught:
        generate_source(session)
    assert caught.value.diagnostics == [d for d in session.diagnostics() if d.is_error]
