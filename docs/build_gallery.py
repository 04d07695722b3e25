"""Build docs/gallery.md: every example project drawn, counted and generated.

    .venv/bin/python docs/build_gallery.py [--out docs]      (what `make docs` runs)

For each project in examples/ (not examples/broken/) it writes, under OUT:

- gallery/<stem>-<network>.png and gallery/<stem>-block-<block>.png: the diagrams, drawn by
  `torchcanvas render` (builder/render_command.py: the canvas's own glyphs);
- gallery/<stem>.py: the code `torchcanvas generate` writes for the project;
- gallery.md: for each network its diagram, its parameter count as `torchcanvas summary`
  measures it beside the published figure the notes cite, its top-level parts, and links.

A published figure is read from the notes as ``Published parameter count: FIGURE (SOURCE)``
or ``Published: FIGURE parameters (SOURCE)``; FIGURE is exact (``25,557,032``) or rounded
(``28.1M``). It belongs to the network whose own notes say it, or whose name starts the
paragraph (``densenet_bc100_cifar: ...``); elsewhere in the project's notes, to the first
network (the paper's configuration).

Running it again changes nothing unless an example did; files it no longer makes are removed
from gallery/. Every file is written atomically. tests/test_docs_gallery.py checks that the
committed page is current.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from codegen import GenerationError, generate_source  # noqa: E402
from graph_schema import ProjectError, load_project  # noqa: E402
from graph_schema.blocks import blocks_outer_first  # noqa: E402
from graph_schema.dims import format_shape  # noqa: E402
from graph_schema.document import Network, Project  # noqa: E402
from graph_schema.files import atomic_write_bytes, atomic_write_text  # noqa: E402
from graph_schema.inference import Inference  # noqa: E402
from graph_schema.summary import Row, Summary, summarize  # noqa: E402

EXAMPLES = ROOT / "examples"
PICTURES = "gallery"  # the folder under OUT for pictures and code
# PNG pixels per canvas unit: the render's default (sharp on HiDPI screens) for networks; the
# block diagrams, folded away under each project, a little less to keep the folder small.
SCALES = {"network": 2.0, "block": 1.5}
# The order a newcomer meets them in: small models, the classification papers, generative,
# sequence and segmentation models. Examples not listed follow, by file name.
READING_ORDER = ("mlp", "lenet", "digits_cnn", "vgg16", "resnet18", "resnet34", "resnet50",
                 "se_resnet50", "densenet121", "mobilenet_v2", "efficientnet_b0", "digits_gan",
                 "gan_mnist_fc", "transformer_classifier", "bimpm", "unet")
SHORT_DESCRIPTION = 160, 2  # a description grows a sentence at a time until this many
# characters, or this many sentences
FEW_PARTS = 5  # a network of at most this many top-level parts (features, classifier) ...
MOST_ROWS = 40  # ... lists the parts one level down too, unless that makes more rows


class GalleryError(Exception):
    """The gallery cannot be built; the message says which example and why."""


# -- reading the examples ------------------------------------------------------------------

@dataclass
class Example:
    stem: str
    path: Path
    project: Project


def examples(folder: Path = EXAMPLES) -> list[Example]:
    """Every project in ``folder`` (not its subfolders), in reading order."""
    paths = sorted(folder.glob("*.json"))
    rank = {stem: i for i, stem in enumerate(READING_ORDER)}
    paths.sort(key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    found = []
    for path in paths:
        try:
            found.append(Example(path.stem, path, load_project(path)))
        except ProjectError as err:
            raise GalleryError(str(err)) from None
    return found


# -- published figures -----------------------------------------------------------------------

FIGURE = r"\d[\d,]*(?:\.\d+)?M?"  # 25,557,032 or 28.1M
PUBLISHED = re.compile(rf"Published parameter count:\s*(?P<figure>{FIGURE})"
                       rf"|Published:\s*(?P<rounded>{FIGURE})\s+parameters")


@dataclass(frozen=True)
class Published:
    figure: str  # as written: "25,557,032" or "28.1M"
    source: str

    @property
    def exact(self) -> bool:
        return not self.figure.endswith("M")

    def matches(self, count: int) -> bool:
        """The measured ``count`` is the figure, or rounds to it at its precision."""
        if self.exact:
            return int(self.figure.replace(",", "")) == count
        digits = self.figure[:-1]
        places = len(digits.partition(".")[2])
        return round(count / 1e6, places) == float(digits)


def published_figures(project: Project) -> dict[str, Published]:
    """The published parameter count of each network whose notes cite one."""
    found: dict[str, Published] = {}
    names = [n.name for n in project.networks]
    if not names:
        return found
    for network in project.networks:
        figure = _published_in(network.notes)
        if figure:
            found[network.name] = figure
    for paragraph in _paragraphs(project.notes):
        figure = _published_in(paragraph)
        if figure is None:
            continue
        owner = next((n for n in names if paragraph.startswith(f"{n}:")), names[0])
        found.setdefault(owner, figure)
    return found


def _published_in(text: str) -> Published | None:
    match = PUBLISHED.search(text)
    if match is None:
        return None
    figure = match.group("figure") or match.group("rounded")
    return Published(figure, _source_after(text[match.end():]))


def _source_after(text: str) -> str:
    """The source that follows a figure: up to the end of its first parenthesis
    (``" in the paper (Table 3)"`` gives ``the paper (Table 3)``, ``" (torchvision)"`` gives
    ``torchvision``)."""
    start = text.find("(")
    if start < 0:
        return ""
    depth = 0
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            break
    lead = text[:start].strip().removeprefix("in ").strip()
    inside = text[start + 1:end].strip()
    return f"{lead} ({inside})" if lead else inside


# -- descriptions ----------------------------------------------------------------------------

# A full stop after these does not end a sentence.
ABBREVIATIONS = ("et al", "e.g", "i.e", "cf", "vs", "Fig", "Eq", "No", "approx")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9'\"(])")


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def sentences(paragraph: str) -> Iterator[str]:
    start = 0
    for match in SENTENCE_END.finditer(paragraph):
        before = paragraph[start:match.start()]
        if before.endswith(tuple(a + "." for a in ABBREVIATIONS)) or re.search(
                r"(^|\s)[A-Z]\.$", before):  # an initial
            continue
        yield before
        start = match.end()
    if paragraph[start:]:
        yield paragraph[start:]


def short_description(notes: str) -> str:
    """The first sentence of the notes, and the next while the text is still short."""
    paragraphs = _paragraphs(notes)
    if not paragraphs:
        return ""
    enough, most = SHORT_DESCRIPTION
    text = ""
    for count, sentence in enumerate(sentences(paragraphs[0]), start=1):
        text = f"{text} {sentence}".strip()
        if len(text) >= enough or count == most:
            break
    return text


def network_description(project: Project, network: Network) -> str:
    """What the notes say about one network: its own notes, else a paragraph of the
    project's notes that starts with its name (the first network is the project's)."""
    if network.notes.strip():
        return " ".join(network.notes.split())
    for paragraph in _paragraphs(project.notes)[1:]:
        if paragraph.startswith(f"{network.name}:"):
            text = paragraph[len(network.name) + 1:].strip()
            return text[:1].upper() + text[1:]
    return ""


# -- Markdown ----------------------------------------------------------------------------------

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
ENTITY = re.compile(r"&(?=#?\w+;)")  # only an & that would start an HTML entity


def escape(text: str) -> str:
    """Notes as plain text in Markdown: no emphasis, links, quotes or HTML from stray
    characters (``->`` stays as it is)."""
    text = ENTITY.sub("&amp;", text).replace("<", "&lt;")
    text = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = re.sub(r"^(\d+)([.)]\s)", r"\1\\\2", text)  # "1998. ..." is not a list item
    return "\\" + text if text.startswith((">", "-", "+")) else text


def code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def github_anchor(heading: str, used: set[str]) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to
    hyphens, and -1, -2 ... for repeats."""
    base = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    anchor, n = base, 0
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def grouped(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def picture_name(stem: str, graph: tuple[str, str]) -> str:
    kind, name = graph
    return f"{stem}-{name}.png" if kind == "network" else f"{stem}-block-{name}.png"


def code_name(stem: str) -> str:
    return f"{stem}.py"


def shown_rows(summary: Summary) -> list[Row]:
    """The summary's top-level parts; when there are only a few (a features/classifier
    split), the parts one level down as well."""
    top = [r for r in summary.rows if r.depth == 0]
    two_levels = [r for r in summary.rows if r.depth <= 1]
    if len(top) <= FEW_PARTS and len(two_levels) <= MOST_ROWS:
        return two_levels
    return top


def _io_shapes(network: Network, inference: Inference, kind: str) -> str:
    parts = []
    for node in network.inputs() if kind == "io.Input" else network.outputs():
        state = inference.states.get(node.id)
        shapes = (state.outputs if kind == "io.Input" else state.inputs) if state else None
        shape = format_shape(shapes[0]) if shapes and shapes[0] is not None else "(?)"
        parts.append(f"{code(node.name)} {code(shape)}")
    return ", ".join(parts) or "none"


class Page:
    """gallery.md, built from the examples and the sizes of their pictures."""

    def __init__(self, found: list[Example], widths: dict[str, int]):
        self.found = found
        self.widths = widths  # picture file name -> width in pixels
        self.anchors: set[str] = set()
        self.lines: list[str] = []

    def text(self) -> str:
        self._intro()
        contents_at = len(self.lines)
        entries = [self._project(example) for example in self.found]
        self.lines[contents_at:contents_at] = ["## Contents", "", *entries, ""]
        return "\n".join(self.lines).rstrip() + "\n"

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def heading(self, level: int, text: str, anchor_text: str | None = None) -> str:
        self.add("#" * level + " " + text, "")
        return github_anchor(anchor_text or text, self.anchors)

    def _intro(self) -> None:
        self.anchors.update({"gallery", "contents"})
        self.add(
            "# Gallery", "",
            "The example projects in [examples/](../examples/), each one drawn as a user would "
            "draw it: with the layer catalog and reusable blocks, the way its paper breaks "
            "the network into parts. For every network you see the diagram exactly as the "
            "canvas draws it (`torchcanvas render`), its parameter count as `torchcanvas "
            "summary` measures it beside the figure published for that configuration, its "
            "top-level parts with their output shapes, and the PyTorch code `torchcanvas "
            "generate` writes for it. Each block is drawn on its own below its project, with "
            "the shapes of its first placement. Open a project in the app "
            "(`torchcanvas app examples/FILE.json`) to see it at any zoom.", "",
            "This page is generated: `make docs` rebuilds it and its pictures "
            "(`.venv/bin/python docs/build_gallery.py`), and `tests/test_docs_gallery.py` "
            "fails when it no longer matches the examples. Shapes are written with `N` for "
            "the batch; parameter counts are exact.", "")

    def _project(self, example: Example) -> str:
        project = example.project
        anchor = self.heading(2, escape(project.name), project.name)
        description = short_description(project.notes)
        if description:
            self.add(escape(description), "")
        self.add(f"Project: [examples/{example.path.name}](../examples/{example.path.name}) · "
                 f"generated code: [{PICTURES}/{code_name(example.stem)}]"
                 f"({PICTURES}/{code_name(example.stem)})", "")
        if " ".join(project.notes.split()) != description:
            self.add("<details><summary>The project's notes</summary>", "",
                     *(line for p in _paragraphs(project.notes) for line in (escape(p), "")),
                     "</details>", "")
        published = published_figures(project)
        for network in project.networks:
            self._network(example, network, published.get(network.name))
        if project.blocks:
            self._blocks(example)
        networks = ", ".join(code(n.name) for n in project.networks)
        return f"- [{escape(project.name)}](#{anchor}): {networks}"

    def _network(self, example: Example, network: Network, published: Published | None) -> None:
        project = example.project
        self.heading(3, code(network.name), network.name)
        description = network_description(project, network)
        if description:
            self.add(escape(description), "")
        inference = Inference(network, project)
        summary = summarize(project, network, inference)
        self.add(f"Input {_io_shapes(network, inference, 'io.Input')} → output "
                 f"{_io_shapes(network, inference, 'io.Output')}", "")
        self._parameters(summary, published)
        self._picture(example.stem, ("network", network.name),
                      f"{network.name} as the canvas draws it")
        self._parts(summary, example.path.name)

    def _parameters(self, summary: Summary, published: Published | None) -> None:
        measured = summary.total_params if summary.complete else None
        if published is None:
            figure, source = "—", "the notes cite none for this configuration"
        else:
            agreement = ("equal" if published.exact else "the measured count rounds to it") \
                if measured is not None and published.matches(measured) else "differs"
            figure, source = f"{published.figure} ({agreement})", escape(published.source)
        self.add("| Parameters | Count | Source |", "|---|--:|---|",
                 f"| measured | {grouped(measured)} | `torchcanvas summary` of this drawing |",
                 f"| published | {figure} | {source} |", "")

    def _picture(self, stem: str, graph: tuple[str, str], alt: str) -> None:
        name = picture_name(stem, graph)
        width = self.widths.get(name)
        # Shown at the canvas's 100% size, whatever the pixel density of the file.
        size = f' width="{round(width / SCALES[graph[0]])}"' if width else ""
        self.add(f'<img src="{PICTURES}/{name}"{size} alt="{html.escape(alt)}">', "")

    def _parts(self, summary: Summary, file_name: str) -> None:
        self.add("| Part | Type | Output shape | Params |", "|---|---|---|--:|")
        for row in shown_rows(summary):
            indent = "&emsp;" * row.depth
            shapes = ", ".join(format_shape(s) for s in row.outputs) or "?"
            self.add(f"| {indent}{code(row.name)} | {code(row.type)} | {code(shapes)} | "
                     f"{grouped(row.params)} |")
        macs = summary.total_macs
        macs_text = f"{macs:,}" if isinstance(macs, int) else str(macs)
        if isinstance(macs, int) and macs >= 10**6:
            macs_text += f" ({macs / 10**9:.2f} G)" if macs >= 10**9 else \
                f" ({macs / 10**6:.1f} M)"
        self.add(f"| **total** | | | **{grouped(summary.total_params)}** |", "",
                 f"MACs per sample: {escape(macs_text)}. Every layer: `torchcanvas summary "
                 f"examples/{file_name} --network {summary.network}`.", "")

    def _blocks(self, example: Example) -> None:
        self.heading(3, f"Blocks of {escape(example.project.name)}",
                     f"Blocks of {example.project.name}")
        project = example.project
        for block in blocks_outer_first(project):
            placed = sum(node.type == f"block:{block.name}"
                         for graph in [*project.networks, *project.blocks]
                         for node in graph.nodes)
            times = {0: "not placed", 1: "placed once"}.get(placed, f"placed {placed} times")
            self.add(f"<details><summary><code>{block.name}</code> ({len(block.nodes)} "
                     f"nodes, {times})</summary>", "")
            if block.notes.strip():
                self.add(escape(" ".join(block.notes.split())), "")
            self._picture(example.stem, ("block", block.name), f"block {block.name}")
            self.add("</details>", "")


def png_width(path: Path) -> int | None:
    """A PNG's width from its header, or None when the file is missing or not a PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big")


def gallery_markdown(found: list[Example], out: Path) -> str:
    """gallery.md's text for ``found``, with the picture sizes of the files under ``out``."""
    folder = out / PICTURES
    widths = {p.name: w for p in folder.glob("*.png") if (w := png_width(p)) is not None}
    return Page(found, widths).text()


# -- writing ---------------------------------------------------------------------------------

def graphs(project: Project) -> list[tuple[str, str]]:
    return [*(("network", n.name) for n in project.networks),
            *(("block", b.name) for b in project.blocks)]


def generated_code(example: Example) -> str:
    try:
        return generate_source(example.project)
    except GenerationError as err:
        raise GalleryError(f"{example.path}: cannot generate code: {err}") from None


def small_png(path: Path) -> bytes:
    """The diagram with a palette of 128 colours (no dithering): a third of the bytes, and
    the flat fills, lines and antialiased text of a diagram look the same."""
    from PIL import Image

    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    reduced.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write_bytes(path, data)
    return True


def build(out: Path, found: list[Example]) -> list[Path]:
    """Write the pictures, the code and gallery.md under ``out``; the files it changed."""
    # Offscreen even where there is a display: its resolution would change every picture.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from builder.gui.image_export import RenderError
    from builder.render_command import draw_graphs

    folder = out / PICTURES
    folder.mkdir(parents=True, exist_ok=True)
    changed, made = [], set()
    scratch = Path(tempfile.mkdtemp(prefix=".rendering-", dir=folder))
    try:
        for example in found:
            drawn = {graph: (scratch / picture_name(example.stem, graph), SCALES[graph[0]])
                     for graph in graphs(example.project)}
            try:
                draw_graphs(example.project, drawn)
            except RenderError as err:
                raise GalleryError(f"{example.path}: {err}") from None
            files = {path.name: small_png(path) for path, _ in drawn.values()}
            files[code_name(example.stem)] = generated_code(example).encode()
            for name, data in files.items():
                made.add(name)
                if write_if_changed(folder / name, data):
                    changed.append(folder / name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for stale in sorted(folder.iterdir()):
        if stale.suffix in (".png", ".py") and stale.name not in made:
            stale.unlink()
            changed.append(stale)
    page = out / "gallery.md"
    text = gallery_markdown(found, out)
    if not page.exists() or page.read_text(encoding="utf-8") != text:
        atomic_write_text(page, text)
        changed.append(page)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build docs/gallery.md from examples/.")
    parser.add_argument("--out", default=str(ROOT / "docs"),
                        help="the folder for gallery.md and gallery/ (default: docs)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        found = examples()
        changed = build(Path(args.out), found)
    except (GalleryError, OSError) as err:
        print(f"build_gallery: {err}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"{'removed' if not path.exists() else 'wrote'} {path}")
    pictures = sum(len(graphs(e.project)) for e in found)
    print(f"gallery: {len(found)} projects, {pictures} diagrams, {len(changed)} files changed "
          f"in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
