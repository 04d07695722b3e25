"""Text from a project file never becomes code.

Names are refused unless they are plain identifiers Python reads as written; every other text
(project name, notes, block names, string arguments) reaches the source only as a docstring
or a string literal. The checks: the generated module is clean under ruff, has exactly the
syntax tree of the same project with harmless text, imports and runs without executing any
payload, and gives the text back unchanged through ``__doc__`` and default values.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import re

import pytest
import torch
from pydantic import ValidationError

from codegen import GenerationError, generate_source
from graph_schema import ProjectError, load_project, validate
from graph_schema.document import Block, Network, Project
from graph_schema.summary import summarize
from tests.codegen_support import (
    check_model,
    generate_and_import,
    import_path,
    network_classes,
    write_module,
)
from tests.graphs import chain_edges, node

PAYLOAD = "__import__('builtins').__dict__.__setitem__('TORCHCANVAS_PWNED', 1)"

HOSTILE = [
    f'"""; import os; os.system("touch PWNED"); {PAYLOAD} #',
    f"'''; {PAYLOAD} #",
    f'"""\n{PAYLOAD}\n"""',
    f'\\"""\n{PAYLOAD}\n#',
    f"\n\n    {PAYLOAD}\n    def forward(self, x):\n        return x\n",
    'ends with a quote"',
    'ends with two quotes""',
    "ends with a backslash \\",
    "\\",
    "\\N{BULLET} \\x00 \\u2028 \\\\ \\n \\t \\' \\\"",
    "line\nbreaks\r\nand\rreturns and \ttabs",
    "vertical\x0btab and form\x0cfeed",
    "nul\x00byte and bell\x07 and del\x7f",
    "\u2028line\u2029separators\x85next line\u2028",
    f"\u2028{PAYLOAD}",
    "escape \x1b[31mred\x1b[0m, bidi \u202e evil \u2066 isolate",
    "zero\u200bwidth\u200d and bom \ufeff and nbsp\xa0",
    "emoji 🐍 astral 𝔘 combining e\u0301",
    "{{ jinja }} {% raw %} {# comment #} {{ '}}' }}",
    "    indented\n        more\n  less   \n\t\ttabbed",
    "\n\n\nleading and trailing blank lines\n\n\n",
    "trailing spaces   \nnext",
    "% 100 %s {} {0} $HOME `cmd`",
]
LONG = "very long notes " * 10_000


def test_lone_surrogates_cannot_enter_a_document():
    with pytest.raises(ValidationError):
        Project(name="lone \ud800", networks=[Network(name="n")])


def conv_block(notes="", **arguments) -> Block:
    return Block(name="Residual", notes=notes, arguments=arguments, nodes=[
        node("bi", "io.Input", "x"),
        node("c", "nn.Conv2d", "conv", out_channels=4, kernel_size=3, padding=1),
        node("bo", "io.Output", "y")], edges=chain_edges("bi", "c", "bo"))


def text_project(text: str, name: str | None = None) -> Project:
    """``text`` in every free-text field the generator reads (and some it does not)."""
    nodes = [node("in", "io.Input", "image", shape=["N", 3, 8, 8]),
             node("b", "block:Residual", "stage"),
             node("fl", "nn.Flatten", "flatten"),
             node("fc", "nn.Linear", "fc", out_features=2),
             node("out", "io.Output", "logits")]
    for item in nodes:
        item.notes = "NODE-NOTE " + text
    network = Network(name="net", notes=text, nodes=nodes,
                      edges=chain_edges("in", "b", "fl", "fc", "out"))
    project = Project(name=(text if name is None else name)[:200] or "x", notes=text,
                      networks=[network], blocks=[conv_block(text)])
    project.training.dataset = text[:1000]
    return project


def without_docstrings(source: str) -> str:
    tree = ast.parse(source)
    for item in ast.walk(tree):
        if isinstance(item, (ast.Module, ast.ClassDef, ast.FunctionDef)) and item.body and \
                isinstance(item.body[0], ast.Expr) and \
                isinstance(item.body[0].value, ast.Constant):
            item.body[0].value.value = "doc"
    return ast.dump(tree)


def docstring_text(doc: str) -> str:
    """A docstring as written, its continuation lines' indentation taken off."""
    lines = doc.split("\n")
    if lines and not lines[-1].strip(" "):
        lines.pop()
    rest = [line for line in lines[1:] if line]
    margin = min((len(line) - len(line.lstrip(" ")) for line in rest), default=0)
    return "\n".join([lines[0], *(line[margin:] for line in lines[1:])])


def tidy(text: str) -> str:
    """What a docstring keeps of free text: its words, not its stray whitespace."""
    text = text.strip().replace("\r\n", "\n").replace("\r", "\n").expandtabs(4)
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def words(text: str) -> list[str]:
    """The text with its line wrapping undone: generated docstrings are wrapped at spaces to
    fit 88 columns, so a space in the notes may come back as a line break (and indent)."""
    return re.split(r"[ \n]+", text.strip(" \n"))


@pytest.fixture
def harmless(tmp_path_factory):
    return generate_source(text_project("harmless words"))


@pytest.mark.parametrize("text", [*HOSTILE, LONG], ids=range(len(HOSTILE) + 1))
def test_hostile_text_stays_text(text, harmless, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = text_project(text)
    assert not [d for d in validate(project) if d.is_error]
    source, module, _ = generate_and_import(project, tmp_path)
    assert without_docstrings(source) == without_docstrings(harmless)
    model = module.Net()
    check_model(project, project.networks[0], module.Net)
    assert not hasattr(builtins, "TORCHCANVAS_PWNED")
    assert not (tmp_path / "PWNED").exists()
    # The notes come back through __doc__, exactly as far as whitespace allows.
    notes = tidy("\n\n".join(t for t in (text, text) if t.strip()))
    count = f"Parameters: {summarize(project).total_params:,}."
    doc = docstring_text(type(model).__doc__)
    tail = words(f"{notes}\n\n{count}" if notes else count)
    assert words(doc)[-len(tail):] == tail
    block_doc = docstring_text(module.Residual.__doc__)
    assert words(block_doc) == words("\n\n".join(
        p for p in ("Block Residual.", tidy(text), "Parameters: 112.") if p))
    assert all(len(line) <= 88 or " " not in line.strip() for line in source.splitlines())
    assert "NODE-NOTE" not in source  # node notes stay in the project file


def test_notes_round_trip_exactly_through_doc(tmp_path):
    notes = ("Deep Residual Learning (He et al., 2015), table 1.\n\n"
             "    lr = 0.1, divided by 10 at 32k and 48k iterations\n"
             "Quotes: \"\"\" ''' \\ \\n \x00 \u2028 — ok.")
    project = text_project(notes, name="ResNet")
    project.networks[0].notes = ""
    _, module, _ = generate_and_import(project, tmp_path)
    doc = docstring_text(module.Net.__doc__)
    title, body, count = doc.split("\n\n", 1)[0], doc.split("\n\n", 1)[1].rsplit("\n\n", 1)[0], \
        doc.rsplit("\n\n", 1)[1]
    assert title == "ResNet."
    assert body == notes
    assert count == f"Parameters: {summarize(project).total_params:,}."
    assert module.__doc__ == "ResNet: PyTorch code generated by TorchCanvas."


@pytest.mark.parametrize("name", ['My "paper" net', "trailing dot...", "a\\b", "\u2028",
                                  '"""', "x" * 200])
def test_project_name_is_only_a_title(name, tmp_path):
    project = text_project("notes", name=name)
    source, module, _ = generate_and_import(project, tmp_path)
    header = f"{name}: PyTorch code generated by TorchCanvas."
    assert words(module.__doc__) == words(header)
    assert words(docstring_text(module.Net.__doc__).split("\n\n")[0]) == \
        words(name.strip().rstrip(".") + ".")


@pytest.mark.parametrize("block_name", ["Res Block; import os", "\"\"\"", "1st block",
                                        "résumé", "!!!", "class", "self", "F", "nn",
                                        "torch", "Net", "_init_weights"])
def test_block_names_become_safe_class_names(block_name, tmp_path):
    project = text_project("notes")
    project.blocks[0].name = block_name
    project.networks[0].nodes[1].type = f"block:{block_name}"
    source, module, _ = generate_and_import(project, tmp_path)
    classes = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
    assert len(classes) == 2 and len({c.name for c in classes}) == 2
    assert all(c.name.isascii() and c.name.isidentifier() for c in classes)
    block_class = getattr(module, classes[0].name)
    assert docstring_text(block_class.__doc__).split("\n\n")[0] == \
        f"Block {block_name}".rstrip(".") + "."
    assert isinstance(network_classes(project, source, module)["net"]().stage, block_class)


@pytest.mark.parametrize("text", HOSTILE[:6] + ["", "x" * 10_000])
def test_string_arguments_are_literals(text, tmp_path):
    project = text_project("notes")
    project.blocks[0].arguments = {"tag": text}
    project.networks[0].arguments = {"label": text + "!"}
    project.networks[0].nodes[1].params = {"tag": text[::-1]}
    source, module, _ = generate_and_import(project, tmp_path)
    block_default = inspect.signature(module.Residual.__init__).parameters["tag"].default
    net_default = inspect.signature(module.Net.__init__).parameters["label"].default
    assert block_default == text and net_default == text + "!"
    calls = [c for c in ast.walk(ast.parse(source)) if isinstance(c, ast.Call)
             and isinstance(c.func, ast.Name) and c.func.id == "Residual"]
    if text[::-1] != text:
        assert [k.value.value for c in calls for k in c.keywords] == [text[::-1]]
    assert not hasattr(builtins, "TORCHCANVAS_PWNED")


BAD_NAMES = [
    "", " ", "x y", "1x", "x-y", "x.y", "x;y", "x\ny", "x\u2028", "a\x00", "f(x)",
    "__import__('os')", "\"x\"", "e\u0301",
    "class", "def", "lambda", "None", "True", "match", "case", "_", "type",
    "forward", "torch", "nn", "F", "math", "super", "training", "_training",
    "__init__", "__class__", "__dict__", "parameters", "state_dict", "reset_parameters",
    "ｓｅｌｆ", "ｆｏｒｗａｒｄ", "ｔｏｒｃｈ", "ﬁ", "ℌ", "x" * 201,
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: ascii(n)[:30])
@pytest.mark.parametrize("where", ["layer", "input", "output", "block"])
def test_bad_names_are_refused(name, where, tmp_path):
    project = text_project("notes")
    graph = project.blocks[0] if where == "block" else project.networks[0]
    index = {"layer": 1, "input": 0, "output": -1, "block": 1}[where]
    try:
        graph.nodes[index].name = name
    except ValidationError:
        return  # refused when the document is built: not even a file can hold it
    errors = [d for d in validate(project) if d.is_error]
    assert errors and errors[0].code == "bad-name" and errors[0].node_id is not None
    with pytest.raises(GenerationError) as caught:
        generate_source(project)
    assert caught.value.diagnostics


@pytest.mark.parametrize("where", ["input", "output"])
def test_self_is_refused_as_an_input_or_output_name(where):
    """``self`` is the module: a forward parameter (or the value returned) cannot be named so,
    though a layer can (tests below)."""
    project = text_project("notes")
    project.networks[0].nodes[{"input": 0, "output": -1}[where]].name = "self"
    errors = [d for d in validate(project) if d.is_error]
    assert errors and errors[0].code == "bad-name" and "'self' is the module" in errors[0].message


@pytest.mark.parametrize("name", ["class", "self", "forward", "x y", "ｓｅｌｆ", "nn", "__x"])
def test_bad_argument_names_are_refused_on_load(name, tmp_path):
    with pytest.raises(ValidationError):
        Network(name="n", arguments={name: 1})
    document = text_project("notes").model_dump(mode="json")
    document["blocks"][0]["arguments"] = {name: 1}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectError, match="argument name"):
        load_project(path)


@pytest.mark.parametrize("class_name", ["class", "self", "torch", "nn", "F", "1Net", "a b",
                                        "ｓｅｌｆ", "__x", "x\ny"])
def test_bad_class_names_are_refused(class_name):
    with pytest.raises(GenerationError, match="class name"):
        generate_source(text_project("notes"), class_name=class_name)


def test_tricky_but_valid_names_work(tmp_path):
    """Names that are fine as attributes but could trip the code: builtins, the running
    variable's candidates, class names, the helper's name, and ``self`` (``self.self``, as
    Hugging Face's BertAttention names its attention)."""
    names = ["print", "int", "tuple", "h", "out", "Residual", "Net", "_init_weights",
             "self", "self_", "training_", "x_2", "value", "list"]
    nodes = [node("in", "io.Input", "x", shape=["N", 4])]
    for i, name in enumerate(names):
        nodes.append(node(f"n{i}", "nn.Linear", name, out_features=4))
        nodes[-1].init = "xavier_uniform"
    nodes.append(node("join", "nn.Bilinear", "y", out_features=3))
    nodes += [node("o1", "io.Output", "z"), node("o2", "io.Output", "features")]
    ids = [n.id for n in nodes[1:-3]]
    edge_list = chain_edges("in", *ids) + chain_edges(ids[2], "join") + \
        chain_edges(ids[-1], "o2")
    edge_list += [edge.model_copy(update={"target_port": 1})
                  for edge in chain_edges("in", "join")]
    edge_list += chain_edges("join", "o1")
    project = Project(networks=[Network(name="net", nodes=nodes, edges=edge_list)],
                      blocks=[conv_block()])
    assert not [d for d in validate(project) if d.is_error]
    source, module, _ = generate_and_import(project, tmp_path)
    check_model(project, project.networks[0], module.Net)


def test_generated_file_runs_nothing_but_definitions(tmp_path):
    """The module's top level only imports and defines; building runs only __init__."""
    source = generate_source(text_project(HOSTILE[0]))
    tree = ast.parse(source)
    kinds = {type(item).__name__ for item in tree.body}
    assert kinds <= {"Expr", "Import", "ImportFrom", "ClassDef", "FunctionDef"}
    assert all(isinstance(item.value, ast.Constant) for item in tree.body
               if isinstance(item, ast.Expr))
    module = import_path(write_module(source, tmp_path))
    assert module.Net()(torch.randn(2, 3, 8, 8)).shape == (2, 2)
    assert not hasattr(builtins, "TORCHCANVAS_PWNED")
