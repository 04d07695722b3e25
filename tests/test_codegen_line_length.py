"""Generated code fits ruff's default line length (88), so it is clean under a default ruff
configuration and under this repo's (100): `ruff check` with the line-length rule and
`ruff format --check`. Long notes are wrapped in the docstrings, never left as long lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import generate_source
from codegen.literals import docstring_body
from graph_schema import load_project
from graph_schema.document import Block, Network, Project
from tests.graphs import chain_edges, node

ROOT = Path(__file__).resolve().parent.parent
RUFF = Path(sys.executable).with_name("ruff")
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

# ruff's defaults (its rules E4, E7, E9 and F) plus the line-length rule, at 88 columns; and
# this repo's pyproject.toml (rules E, F, W, I, B, UP at 100 columns).
CHECKS = {
    "default-88": ["check", "--isolated", "--line-length", "88", "--extend-select", "E501"],
    "repo": ["check", "--config", str(ROOT / "pyproject.toml")],
}
FORMAT = ["format", "--isolated", "--line-length", "88", "--check", "--diff"]
FORMAT_REPO = ["format", "--config", str(ROOT / "pyproject.toml"), "--check", "--diff"]

WORDS = ("Deep residual learning with a very long note about the training schedule and its "
         "many hyperparameters, written on one line as people paste it from a paper ")
NOTE_320 = (WORDS * 3)[:320].rstrip() + "."


def ruff(args: list[str], paths: list[Path]) -> str:
    """ruff's complaints about ``paths`` (empty when they are clean)."""
    result = subprocess.run([str(RUFF), *args, "--no-cache", *map(str, paths)],
                            capture_output=True, text=True, timeout=120, cwd=paths[0].parent)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def written(sources: dict[str, str], directory: Path) -> list[Path]:
    paths = []
    for stem, source in sources.items():
        path = directory / f"{stem}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def example_files(tmp_path_factory) -> list[Path]:
    """Every example's generated module, in one folder (one ruff run checks them all)."""
    directory = tmp_path_factory.mktemp("examples")
    return written({p.stem: generate_source(load_project(p)) for p in EXAMPLES}, directory)


@pytest.mark.parametrize("config", sorted(CHECKS))
def test_every_example_passes_ruff_check(config, example_files):
    problems = ruff(CHECKS[config], example_files)
    assert not problems, problems


def test_every_example_is_already_ruff_formatted(example_files):
    problems = ruff(FORMAT, example_files)
    assert not problems, problems


def test_every_example_is_already_formatted_at_this_repos_line_length(example_files):
    problems = ruff(FORMAT_REPO, example_files)
    assert not problems, problems


def test_every_example_line_fits_88_columns(example_files):
    for path in example_files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            # As ruff's E501: a line of one word (a long URL) cannot be broken.
            assert len(line) <= 88 or " " not in line.strip(), \
                f"{path.name}:{number} is {len(line)} long: {line}"


def long_notes_project(notes: str, name: str = "Long notes") -> Project:
    block = Block(name="Stage", notes=notes, nodes=[
        node("bi", "io.Input", "x"),
        node("c", "nn.Conv2d", "conv", out_channels=4, kernel_size=3, padding=1),
        node("bo", "io.Output", "y")], edges=chain_edges("bi", "c", "bo"))
    network = Network(name="net", notes=notes, nodes=[
        node("in", "io.Input", "image", shape=["N", 3, 8, 8]),
        node("b", "block:Stage", "stage"),
        node("fl", "nn.Flatten", "flatten"),
        node("fc", "nn.Linear", "fc", out_features=2),
        node("out", "io.Output", "logits")], edges=chain_edges("in", "b", "fl", "fc", "out"))
    return Project(name=name, notes=notes, networks=[network], blocks=[block])


NOTES = {
    "320 characters": NOTE_320,
    "paragraphs and a list": f"{NOTE_320}\n\nSettings:\n  - {NOTE_320}\n  - short\n\n{WORDS}",
    "a long url": f"See https://example.org/{'a' * 120}/paper.pdf for {NOTE_320}",
    "quotes and backslashes": ('"""quoted""" \\ ' * 30).strip(),
    "wide characters": "深度残差学习 " * 40 + "é" * 100,
    "one long word": "x" * 150,
}


@pytest.mark.parametrize("notes", NOTES.values(), ids=NOTES.keys())
def test_long_notes_are_wrapped_clean_and_kept(notes, tmp_path):
    project = long_notes_project(notes, name=f"A project named after {NOTE_320}"[:200])
    source = generate_source(project)
    paths = written({"long_notes": source}, tmp_path)
    for args in [*CHECKS.values(), FORMAT]:
        problems = ruff(args, paths)
        assert not problems, problems + "\n" + source
    # The words come back through the docstrings, only the line breaks between them moved.
    docs = [ast.get_docstring(item, clean=False) or "" for item in ast.walk(ast.parse(source))
            if isinstance(item, (ast.ClassDef, ast.Module))]
    words = notes.split()
    for doc in docs[1:]:  # the module's docstring is the title alone
        found = doc.split()
        assert any(found[i:i + len(words)] == words for i in range(len(found))), doc


def test_the_320_character_note_becomes_lines_within_88_columns(tmp_path):
    source = generate_source(long_notes_project(NOTE_320))
    assert NOTE_320 not in source  # wrapped
    lines = [line for line in source.splitlines() if line.strip() and
             line.strip() in NOTE_320]
    assert len(lines) >= 12 and max(map(len, lines)) <= 88  # 3 docstrings of ~4 lines


@pytest.mark.parametrize(("indent", "lead", "tail"), [("", 3, 3), ("    ", 3, 0),
                                                      ("        ", 23, 3)])
def test_docstring_body_fits_every_line_with_its_quotes(indent, lead, tail):
    body = docstring_body(NOTE_320 + "\n\n" + NOTE_320, indent, lead=lead, tail=tail)
    lines = body.split("\n")
    assert len(indent) + lead + len(lines[0]) <= 88
    assert all(len(line) <= 88 for line in lines[1:])
    assert len(lines[-1]) + tail <= 88
    assert all(line.startswith(indent) for line in lines[1:] if line)
    assert body.split() == (NOTE_320 + " " + NOTE_320).split()


def test_short_notes_and_their_line_breaks_stay_as_written():
    notes = "Table 1.\n    lr = 0.1\n\nshort line"
    assert docstring_body(notes, "    ") == "Table 1.\n        lr = 0.1\n\n    short line"
