"""Hostile project files for tests/test_fuzz_files.py, as hypothesis strategies.

Four families: every example with its bytes garbled; every example with its JSON mangled
(keys gone, wrong types, huge numbers, deep nesting, NaN tokens, duplicate ids and keys);
the valid examples with code-like text in every free-text field; and a kept-source block
whose source, origin, reason and imports try to run something. Every payload writes
``CANARY``, a path of this test run that must never come to exist.
"""

from __future__ import annotations

import atexit
import copy
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from graph_schema.catalog import all_specs
from graph_schema.document import ImportedName, OpaqueCall
from graph_schema.files import project_to_json
from tests.kept_blocks import KEPT, kept_block, placed_gate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
BROKEN = sorted((ROOT / "examples" / "broken").glob("*.json"))
ALL_EXAMPLES = EXAMPLES + BROKEN
SOURCES = {path.name: path.read_bytes() for path in ALL_EXAMPLES}

CANARY_DIR = Path(tempfile.mkdtemp(prefix="torchcanvas-fuzz-"))
atexit.register(shutil.rmtree, CANARY_DIR, ignore_errors=True)
CANARY = CANARY_DIR / "canary"
_C = repr(str(CANARY))

PAYLOADS = [
    f"open({_C}, 'w').close()",
    f"__import__('pathlib').Path({_C}).touch()",
    f"__import__('os').system('touch ' + {_C})",
    f"exec(\"open({str(CANARY)!r}, 'w')\")",
    f"[c for c in ().__class__.__base__.__subclasses__() if 0] or open({_C}, 'a')",
]

# Ways out of a string literal, a comment, a docstring or a template, each around a payload.
BREAKOUTS = [
    '"""; {p} #', "'''; {p} #", '"""\n{p}\n"""', '\\"""\n{p}\n#', "\n{p}\n", "\n    {p}\n",
    "\r{p}", "\r\n{p}", "\u2028{p}", "\x0c{p}", "\x0b{p}", "\x85{p}", "\\\n{p}",
    'f"{{{p}}}"', "{{{{ {p} }}}}", "{{% raw %}}{p}{{% endraw %}}", "# {p}", "\x00{p}",
    "\u202e{p}\u202c", "\u2066{p}\u2069", "'); {p}; ('", '"); {p}; ("', "}}; {p}; {{",
    "\\N{{{p}}}", "\\x22; {p}", "*/ {p} /*", "${{{p}}}", "`{p}`", "\ufeff{p}",
]
HOSTILE = [template.format(p=payload) for template in BREAKOUTS for payload in PAYLOADS[:2]]
PIECES = ['"', "'", '"""', "'''", "\\", "#", "\n", "\r", "\t", "\x00", "\x1b[31m", "\u202e",
          "\u2066", "\u2028", "\u200b", "{", "}", "{{", "}}", "%s", "f'", "__import__('os')",
          "`", "$(", "\ufeff", "é", "𝔘", "e\u0301", " ", "    ", *PAYLOADS[:2]]


def code_like_text(max_pieces: int = 8) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.lists(st.sampled_from(PIECES), min_size=1, max_size=max_pieces).map("".join),
        st.text(max_size=40),
    )


# Names that may or may not survive name_problem: keywords, dunders, NFKC look-alikes,
# invisible characters, reserved module attributes, and plain ones.
TRICKY_NAMES = ["x", "conv_1", "self", "forward", "class", "match", "__init__", "_forward",
                "__class__", "ｓｅｌｆ", "ﬁlter", "x\u200b", "x\u202e", "Σ", "none", "None",
                "torch", "nn", "F", "_init_weights", "_stored_tensor", "super", "exec",
                "open", "__import__", "a" * 200, "1x", "x-y", "x y", "x\n", ""]


def node_name() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(TRICKY_NAMES), code_like_text(3))


# -- garbled bytes -------------------------------------------------------------------------
FRAGMENTS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\x00", b"\xff", b"\xc3",
             b"\xed\xa0\x80", b"NaN", b"Infinity", b"-Infinity", b"1e400", b"\xef\xbb\xbf",
             b"null", b"9" * 400, b"\\ud800", b'"\\u0000"', b"\n", b"[" * 5000, b"-0"]


@st.composite
def garbled(draw, data: bytes) -> bytes:
    """``data`` with a few random byte flips, deletions, insertions, duplications or a cut."""
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if op == "flip" and data:
            data = data[:where] + bytes([data[where] ^ draw(st.integers(1, 255))]) + \
                data[where + 1:]
        elif op == "delete":
            data = data[:where] + data[where + draw(st.integers(1, 40)):]
        elif op == "insert":
            piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.binary(min_size=1, max_size=8)))
            data = data[:where] + piece + data[where:]
        elif op == "duplicate":
            data = data[:where] + data[where:where + draw(st.integers(1, 200))] + data[where:]
        else:
            data = data[:where]
    return data


# -- mangled JSON --------------------------------------------------------------------------
# Raw tokens JSON writers never produce; json.dumps writes a marker string in their place.
RAW_TOKENS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "1" * 5000,
              "123456789012345678901234567890"]
_RAW = "@RAW:{}@"
_DUP = "@DUP:{}@"
CATALOG_TYPES = sorted(spec.type for spec in all_specs())
PARAM_NAMES = sorted({p.name for spec in all_specs() for p in spec.params})


@st.composite
def deep(draw) -> Any:
    depth = draw(st.sampled_from([30, 200, 900, 990, 3000, 100_000]))
    value: Any = draw(st.sampled_from([0, "x", None]))
    for _ in range(depth):
        value = [value] if draw(st.booleans()) or depth > 1000 else {"k": value}
    return value


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-2**70, 2**70),
        st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30, -10**30, 1e308, 5e-324, 0.5]),
        st.floats(), st.sampled_from(RAW_TOKENS).map(_RAW.format), code_like_text(),
        st.sampled_from(CATALOG_TYPES), st.sampled_from(["N", "L", "", "n0", "n1"]))
    return st.one_of(scalars, st.lists(scalars, max_size=5),
                     st.dictionaries(st.sampled_from(PARAM_NAMES + ["arg", "x"]), scalars,
                                     max_size=3), deep())


def _places(doc: Any, max_depth: int = 40) -> list[tuple[Any, Any]]:
    """Every (container, key) pair of a JSON document down to ``max_depth``."""
    found: list[tuple[Any, Any]] = []
    pending = [(doc, 0)]
    while pending:
        value, depth = pending.pop()
        if depth >= max_depth:
            continue
        keys = list(value) if isinstance(value, dict) else \
            range(len(value)) if isinstance(value, list) else ()
        for key in keys:
            found.append((value, key))
            pending.append((value[key], depth + 1))
    return found


def _graphs(doc: Any) -> list[dict]:
    return [g for key in ("networks", "blocks") if isinstance(doc.get(key), list)
            for g in doc[key] if isinstance(g, dict)]


def _nodes(doc: Any) -> list[dict]:
    return [n for g in _graphs(doc) if isinstance(g.get("nodes"), list) for n in g["nodes"]
            if isinstance(n, dict)]


@st.composite
def mangled(draw, data: bytes) -> bytes:
    """``data`` (a JSON project) with a few structural mutations, written back as JSON."""
    doc = json.loads(data)
    for _ in range(draw(st.integers(1, 5))):
        places = _places(doc)
        nodes = _nodes(doc)
        op = draw(st.sampled_from(["delete", "replace", "replace", "retype", "param", "param",
                                   "duplicate", "dup_key", "version", "swap", "unknown_key",
                                   "argument", "tie", "reuse"]))
        if op in ("delete", "replace", "duplicate", "swap", "dup_key") and places:
            parent, key = draw(st.sampled_from(places))
            if op == "delete":
                del parent[key]
            elif op == "replace":
                parent[key] = draw(json_values())
            elif op == "duplicate" and isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            elif op == "swap" and isinstance(parent, list) and len(parent) > 1:
                other = draw(st.integers(0, len(parent) - 1))
                parent[key], parent[other] = parent[other], parent[key]
            elif op == "dup_key" and isinstance(parent, dict) and re.fullmatch(r"\w+", key):
                parent[_DUP.format(key)] = draw(json_values())
        elif op == "retype" and nodes:
            draw(st.sampled_from(nodes))["type"] = draw(st.one_of(
                st.sampled_from(CATALOG_TYPES), code_like_text(), st.just("block:Nope")))
        elif op == "param" and nodes:
            target = draw(st.sampled_from(nodes))
            if not isinstance(target.get("params"), dict):
                target["params"] = {}
            name = draw(st.one_of(st.sampled_from(PARAM_NAMES), code_like_text(2)))
            target["params"][name] = draw(st.one_of(json_values(), st.fixed_dictionaries(
                {"arg": st.sampled_from(["x", "num_classes", "not there"])})))
        elif op == "argument" and _graphs(doc):
            graph = draw(st.sampled_from(_graphs(doc)))
            if not isinstance(graph.get("arguments"), dict):
                graph["arguments"] = {}
            graph["arguments"][draw(st.sampled_from(["x", "width", "num_classes", "p"]))] = \
                draw(json_values())
        elif op in ("tie", "reuse") and len(nodes) > 1:
            first, second = draw(st.permutations(nodes))[:2]
            if op == "reuse":
                first["reuses"] = second.get("id")
            else:
                graph = draw(st.sampled_from(_graphs(doc)))
                attribute = draw(st.sampled_from(["weight", "bias", "running_mean"]))
                graph["tied"] = [{"target": f"{first.get('name')}.{attribute}",
                                  "source": f"{second.get('name')}.{attribute}"}]
        elif op == "version" and isinstance(doc, dict):
            doc["format_version"] = draw(st.sampled_from([1, 2, 3, 4, 5, 0, -1, "4", 4.0,
                                                           True, None, 2**64]))
        elif op == "unknown_key" and places:
            parent, key = draw(st.sampled_from(places))
            if isinstance(parent[key], dict):
                parent[key][draw(code_like_text(2))] = 1
    return dump(doc)


def dump(doc: Any) -> bytes:
    text = json.dumps(doc, indent=1, ensure_ascii=False) if _shallow(doc) else \
        _dump_deep(doc)
    for token in RAW_TOKENS:
        text = text.replace(json.dumps(_RAW.format(token)), token)
    text = re.sub(r'"@DUP:(\w+)@"', r'"\1"', text)
    return text.encode("utf-8", "surrogatepass")


def _shallow(value: Any, depth: int = 0) -> bool:
    if depth > 500:
        return False
    if isinstance(value, dict):
        return all(_shallow(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_shallow(v, depth + 1) for v in value)
    return True


def _dump_deep(value: Any) -> str:
    """json.dumps without its recursion limit, for the deeply nested values."""
    parts: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            parts.append(item.text)
        elif isinstance(item, dict):
            stack.append(_Text("}"))
            for index, (key, inner) in reversed(list(enumerate(item.items()))):
                stack += [inner, _Text(("," if index else "") + json.dumps(key) + ":")]
            stack.append(_Text("{"))
        elif isinstance(item, list):
            stack.append(_Text("]"))
            for index, inner in reversed(list(enumerate(item))):
                stack += [inner] + ([_Text(",")] if index else [])
            stack.append(_Text("["))
        else:
            parts.append(json.dumps(item))
    return "".join(parts)


@dataclass
class _Text:
    text: str


# -- code-like text in a valid project -----------------------------------------------------
STRING_PARAMS = {spec.type: [p.name for p in spec.params if p.kind in ("str", "choice")]
                 for spec in all_specs()}


@st.composite
def with_code_like_text(draw, data: bytes) -> bytes:
    """A valid example with hostile text in its notes, names (network, block, project),
    argument defaults and training fields, all of which may hold any text; half the time
    also in node names and string parameters, which make it invalid."""
    doc = json.loads(data)
    text = code_like_text()
    damage = draw(st.booleans())
    if draw(st.booleans()):
        doc["name"] = draw(text.filter(lambda t: 0 < len(t) <= 200))
    doc["notes"] = draw(text)
    training = doc.setdefault("training", {})
    training["dataset"] = draw(text)
    training["metrics"] = draw(st.lists(text.filter(lambda t: len(t) <= 100), max_size=2))
    for graph in [*doc["networks"], *doc.get("blocks", [])]:
        graph["notes"] = draw(text)
        if draw(st.booleans()):
            graph.setdefault("arguments", {})[draw(st.sampled_from(["act", "label", "p"]))] = \
                draw(text)
        for node in graph["nodes"]:
            node["notes"] = draw(text)
            if damage and draw(st.integers(0, 9)) == 0:
                node["name"] = draw(node_name())
            choices = STRING_PARAMS.get(node["type"])
            if damage and choices and draw(st.integers(0, 3)) == 0:
                node["params"][draw(st.sampled_from(choices))] = draw(text)
    names = st.one_of(st.sampled_from(TRICKY_NAMES), text).filter(lambda t: 0 < len(t) <= 200)
    if draw(st.booleans()):
        doc["networks"][0]["name"] = draw(names)
    for block in doc.get("blocks", []):
        if draw(st.booleans()):
            old, block["name"] = block["name"], draw(names)
            for node in _nodes(doc):
                if node["type"] == f"block:{old}":
                    node["type"] = f"block:{block['name']}"
    return dump(doc)


# -- kept source ---------------------------------------------------------------------------
@dataclass
class KeptCase:
    """A kept-source project file and what it tries: ``runs_code`` when its kept source
    holds a payload (generated code would run it), ``signed`` when this run's key signed
    it as it is saved."""

    data: bytes
    runs_code: bool
    signed: bool


def _payload_sources(payload: str) -> list[str]:
    lines = KEPT.split("\n")
    return [
        "\n".join([lines[0], f"    {payload}", *lines[1:]]),  # class body: runs on import
        KEPT.replace("super().__init__()", f"super().__init__()\n        {payload}"),
        KEPT.replace("if x.sum() > 0:", f"{payload}\n        if x.sum() > 0:"),
        KEPT.replace("def __init__(self, width):", f"def __init__(self, width, _={payload}):"),
        f"@(lambda c: ({payload}, c)[1])\n{KEPT}",
        KEPT.replace("class Gate(nn.Module):", f"class Gate(({payload}, nn.Module)[1]):"),
        KEPT + f'\n    """{payload}"""\n' + f"    x = {payload}\n",
    ]


# Sources that are not one class named as the block says: loading refuses them.
NOT_ONE_CLASS = [KEPT + f"\n{PAYLOADS[0]}\n", f"{PAYLOADS[1]}\n{KEPT}", "", "class Gate(",
                 KEPT.replace("class Gate", "class Other"), KEPT + "\x00", "\ufeff" + KEPT,
                 f"import os\n{KEPT}", KEPT.replace("    ", "\t", 1)]

IMPORTS = [
    {"module": "torch.nn", "alias": "nn"}, {"module": "torch", "alias": "torch"},
    {"module": "math", "alias": "math"}, {"module": "typing", "attribute": "Optional",
                                          "alias": "Optional"},
    {"module": "torch.nn", "attribute": "functional", "alias": "F"},
    {"module": "collections", "attribute": "OrderedDict", "alias": "OD"},
    {"module": "os", "alias": "os"}, {"module": "subprocess", "alias": "sp"},
    {"module": "builtins", "attribute": "open", "alias": "open"},
    {"module": "importlib", "alias": "importlib"}, {"module": "pathlib", "alias": "Path"},
    {"module": "torchvision", "alias": "tv"}, {"module": "torch_evil", "alias": "te"},
    {"module": "os.path", "alias": "osp"}, {"module": "_io", "alias": "io"},
    # Not Python once written out (tests/test_fuzz_files.py, test_kept_import_*):
    {"module": "math", "alias": "class"}, {"module": "torch.", "alias": "t"},
]


def import_entries() -> st.SearchStrategy[dict]:
    listed = st.sampled_from(IMPORTS)
    return st.one_of(listed, listed, listed, st.fixed_dictionaries(
        {"module": code_like_text(2), "alias": code_like_text(2)}))


@st.composite
def kept_source_files(draw) -> KeptCase:
    """A network placing one kept-source block, with hostile source, origin, reason and
    imports, signed or not, perhaps edited after signing."""
    payload = draw(st.sampled_from(PAYLOADS))
    kind = draw(st.sampled_from(["benign", "benign", "payload", "payload",
                                     "not_one_class"]))
    source = {"benign": KEPT, "payload": draw(st.sampled_from(_payload_sources(payload))),
              "not_one_class": draw(st.sampled_from(NOT_ONE_CLASS))}[kind]
    name = draw(st.sampled_from(["Gate", "Gate", "N", "Net", "_init_weights", "Gate2"]))
    source = source.replace("class Gate", f"class {name}", 1)
    imports = [{"module": "torch.nn", "alias": "nn"}] + draw(st.lists(import_entries(),
                                                                      max_size=2))
    fields = dict(origin=draw(st.one_of(st.just("models.py"), code_like_text())),
                  reason=draw(st.one_of(st.just("control flow"), code_like_text())),
                  requires=draw(st.lists(st.sampled_from([name, "Other", "Gate"]), max_size=1)),
                  calls=[OpaqueCall(arguments={"width": draw(st.sampled_from([4, 5]))},
                                    inputs=[["N", 4]], outputs=[["N", 4]], parameters=20)])
    sign = draw(st.booleans())
    # A block that does not load is written as JSON by hand, as an editor would.
    probe = dict(class_name=name, source=source, imports=imports, **fields)
    try:
        block = kept_block(source=source, name=name, sign=sign,
                           imports=[ImportedName(**item) for item in imports], **fields)
    except ValueError:
        return KeptCase(_hand_written(probe), kind == "payload", False)
    doc = json.loads(project_to_json(placed_gate(block)))
    block_name = draw(st.one_of(st.just(name), code_like_text(3)))  # not signed: any text
    doc["blocks"][0]["name"] = block_name
    doc["networks"][0]["nodes"][1]["type"] = f"block:{block_name}"
    if sign and draw(st.integers(0, 3)) == 0:  # edited after signing: the signature no longer fits
        opaque = doc["blocks"][0]["opaque"]
        edit = draw(st.sampled_from(["source", "import", "signature"]))
        if edit == "source":
            opaque["source"] = opaque["source"].rstrip("\n") + f"\n    # {payload}\n"
        elif edit == "import":
            opaque["imports"].append({"module": "math", "alias": "math"})
        else:
            opaque["signature"] = "hmac-sha256:" + "0" * 64
        sign = False
    return KeptCase(dump(doc), kind == "payload", sign)


def _hand_written(opaque: dict) -> bytes:
    doc = json.loads(project_to_json(placed_gate(kept_block())))
    opaque = {**opaque, "calls": [call.model_dump() for call in opaque["calls"]]}
    doc["blocks"][0]["opaque"] = opaque
    doc["blocks"][0]["name"] = opaque["class_name"]
    doc["networks"][0]["nodes"][1]["type"] = f"block:{opaque['class_name']}"
    return dump(doc)
