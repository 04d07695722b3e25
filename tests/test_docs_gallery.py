"""docs/gallery.md and docs/gallery/ are current, checked without drawing the pictures again.

What a reader of the gallery relies on: every example has a section; the parameter counts it
shows are what `torchcanvas summary` measures today; the published figure of every ImageNet
network equals the measured count; every picture and code file it links is there; the code is
what `torchcanvas generate` writes today. When one fails after an example changed, rebuild the
page with `.venv/bin/python docs/build_gallery.py` (`make docs`).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from codegen import generate_source
from graph_schema.summary import summarize

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REBUILD = "the gallery is out of date: run `.venv/bin/python docs/build_gallery.py`"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_gallery", DOCS / "build_gallery.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gallery = _load_builder()
EXAMPLES = gallery.examples()
PAGE = (DOCS / "gallery.md").read_text(encoding="utf-8")
NETWORKS = [(e, n) for e in EXAMPLES for n in e.project.networks]
# The paper's configuration: RGB 224x224 in (the figures published are for it).
IMAGENET = [(e, n) for e, n in NETWORKS
            if [i.params.get("shape") for i in n.inputs()] == [["N", 3, 224, 224]]]


def _ids(pairs):
    return [f"{e.stem}-{n.name}" for e, n in pairs]


def project_sections(page: str) -> dict[str, str]:
    """The text of each project's section, by the stem of the example it links to."""
    found = {}
    for section in page.split("\n## ")[1:]:
        link = re.search(r"\]\(\.\./examples/([^/)]+)\.json\)", section)
        if link:
            found[link.group(1)] = section
    return found


def network_section(stem: str, network: str) -> str:
    section = project_sections(PAGE)[stem]
    parts = section.split(f"\n### `{network}`\n")
    assert len(parts) == 2, f"{stem}: no single section for network {network!r}"
    return parts[1].split("\n### ")[0]


def parameter_cell(text: str, row: str) -> str:
    match = re.search(rf"^\| {row} \| ([^|]+) \|", text, re.MULTILINE)
    assert match, f"no '{row}' row in the parameters table"
    return match.group(1).strip()


def test_every_example_has_a_section_and_nothing_else_does():
    sections = project_sections(PAGE)
    assert sorted(sections) == sorted(e.stem for e in EXAMPLES)
    assert {p.stem for p in (ROOT / "examples").glob("*.json")} == set(sections)
    for example in EXAMPLES:
        for network in example.project.networks:
            network_section(example.stem, network.name)


def test_the_page_is_what_the_builder_writes_from_the_examples_now():
    assert gallery.gallery_markdown(EXAMPLES, DOCS) == PAGE, REBUILD


@pytest.mark.parametrize(("example", "network"), NETWORKS, ids=_ids(NETWORKS))
def test_the_measured_count_is_what_summary_counts_now(example, network):
    shown = parameter_cell(network_section(example.stem, network.name), "measured")
    summary = summarize(example.project, network)
    assert summary.complete
    assert shown == f"{summary.total_params:,}", REBUILD


@pytest.mark.parametrize(("example", "network"), IMAGENET, ids=_ids(IMAGENET))
def test_an_imagenet_network_shows_the_published_figure_and_it_is_the_measured_count(
        example, network):
    text = network_section(example.stem, network.name)
    published = parameter_cell(text, "published")
    assert published != "—", f"{example.path.name}: the notes cite no published count"
    figure = published.split(" (")[0]
    assert figure in example.project.notes + network.notes  # quoted, not made up
    measured = summarize(example.project, network).total_params
    if "M" in figure:  # the paper rounds it (SE-ResNet-50: 28.1M): equal at that precision
        places = len(figure[:-1].partition(".")[2])
        assert round(measured / 1e6, places) == float(figure[:-1])
    else:
        assert int(figure.replace(",", "")) == measured


def test_published_figures_and_their_sources_are_read_from_the_notes():
    from graph_schema.document import Network, Project

    notes = ("Big: the paper. Published parameter count: 25,557,032 (torchvision's docs; the "
             "paper gives none). More text.\n\nsmall: the CIFAR one. Published: 0.8M "
             "parameters (Table 2); drawn here it has 769,162.")
    project = Project(name="p", notes=notes, networks=[Network(name="big"),
                                                       Network(name="small"),
                                                       Network(name="other")])
    figures = gallery.published_figures(project)
    assert sorted(figures) == ["big", "small"]
    assert figures["big"] == gallery.Published("25,557,032",
                                               "torchvision's docs; the paper gives none")
    assert figures["big"].matches(25_557_032) and not figures["big"].matches(25_557_033)
    assert figures["small"] == gallery.Published("0.8M", "Table 2")
    assert figures["small"].matches(769_162) and not figures["small"].matches(869_162)
    written = "Published parameter count: 28.1M in the paper (its Table 7), then more."
    assert gallery._published_in(written) == gallery.Published("28.1M",
                                                               "the paper (its Table 7)")


def test_the_short_description_stops_after_a_sentence_or_two():
    notes = ("Goodfellow et al. 2014, 'Generative Adversarial Nets': the original GAN. "
             "Second sentence here. Third sentence, never shown.\n\nAnother paragraph.")
    assert gallery.short_description(notes) == ("Goodfellow et al. 2014, 'Generative "
                                                "Adversarial Nets': the original GAN. Second "
                                                "sentence here.")


def test_every_file_the_page_links_is_there_and_every_file_there_is_linked():
    linked = set(re.findall(r'<img src="([^"]+)"', PAGE))
    linked |= {t for t in re.findall(r"\]\(([^)#]+)\)", PAGE) if not t.startswith("http")}
    missing = sorted(t for t in linked if not (DOCS / t).exists())
    assert missing == [], REBUILD
    pictures = {f"{gallery.PICTURES}/{p.name}" for p in (DOCS / gallery.PICTURES).iterdir()}
    assert sorted(pictures - linked) == [], "files no section links: " + REBUILD
    for example in EXAMPLES:  # every network and every block has its picture
        for graph in gallery.graphs(example.project):
            assert f"{gallery.PICTURES}/{gallery.picture_name(example.stem, graph)}" in linked


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_the_committed_code_is_what_generate_writes_now(example):
    committed = (DOCS / gallery.PICTURES / gallery.code_name(example.stem)).read_text(
        encoding="utf-8")
    assert committed == generate_source(example.project), REBUILD


def test_a_build_is_idempotent_and_removes_what_it_no_longer_makes(tmp_path, qapp):
    mlp = [e for e in EXAMPLES if e.stem == "mlp"]
    first = gallery.build(tmp_path, mlp)
    folder = tmp_path / gallery.PICTURES
    assert sorted(p.name for p in first) == ["gallery.md", "mlp-mlp.png", "mlp.py"]
    assert (folder / "mlp-mlp.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (folder / "renamed-network.png").write_bytes(b"old")
    assert gallery.build(tmp_path, mlp) == [folder / "renamed-network.png"]
    assert sorted(p.name for p in folder.iterdir()) == ["mlp-mlp.png", "mlp.py"]
    assert "## MLP" in (tmp_path / "gallery.md").read_text()


def test_notes_stay_plain_text_in_markdown():
    assert gallery.escape("bn_size*k = 4*32, <b>1</b> [x](y)") == \
        r"bn\_size\*k = 4\*32, &lt;b>1&lt;/b> \[x\](y)"
    assert gallery.escape("> not a quote") == r"\> not a quote"
    assert gallery.escape("1998. Not a list") == r"1998\. Not a list"
