"""Which layers quick-add offers first: what was typed, what fits the tensor, what is common.

Quick-add is asked for a layer after a given node (Tab with one node selected, a wire
dropped on empty canvas): the layers that can take that node's output go first (2-D
convolutions and pools for a 4-D tensor, 1-D ones for a 3-D tensor, Linear for a 2-D one),
then the ones commonly drawn. Whether a layer fits is tried, not guessed from its name: its
own shape rule runs on the tensor (graph_schema.inference, with stand-in values for the
parameters a user must give), so a rank it can never take shows as it would on the canvas.

Numbers typed after the name set the layer's key parameters: ``conv2d 6 5`` is a Conv2d
with out_channels=6 and kernel_size=5 (``split_numbers``, ``numbered_params``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from graph_schema.catalog import get_spec
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.spec import LayerSpec
from graph_schema.dims import Shape
from graph_schema.document import Edge, Network, Node, Position, Project, block_name_of
from graph_schema.inference import Inference
from graph_schema.specs import spec_for

Entry = tuple[str, str, str]  # family, type, description

# The layers people draw most, most used first (from the papers' own figures and the code
# of torchvision and timm); the unfiltered list starts with these, the rest follow by name.
COMMON_TYPES = (
    "nn.Conv2d", "nn.ReLU", "nn.BatchNorm2d", "nn.MaxPool2d", "nn.Linear", "nn.Dropout",
    "nn.Flatten", "op.add", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d", "nn.Sigmoid", "nn.Tanh",
    "nn.GELU", "nn.LayerNorm", "nn.Softmax", "op.cat", "nn.Conv1d", "nn.BatchNorm1d",
    "nn.ConvTranspose2d", "nn.Upsample", "nn.LeakyReLU", "nn.SiLU", "nn.Embedding",
    "nn.LSTM", "nn.GRU", "nn.MultiheadAttention", "nn.TransformerEncoderLayer",
    "nn.Identity", "nn.Dropout2d", "nn.GroupNorm", "nn.MaxPool1d", "nn.AvgPool1d",
    "io.Input", "io.Output",
)
_COMMONNESS = {t: i for i, t in enumerate(COMMON_TYPES)}
FITS, MAYBE, MISFITS = 0, 1, 2  # how a layer takes the tensor it would be given


@dataclass(frozen=True)
class Wanted:
    """What the new layer will be connected to: ``shape`` is the tensor it will receive
    (None when unknown); ``fed`` when something will feed its input, ``feeding`` when its
    output will feed something."""

    shape: Shape | None = None
    fed: bool = False
    feeding: bool = False


NOTHING = Wanted()


# -- what was typed --------------------------------------------------------------------------
def short_label(type_name: str) -> str:
    return block_name_of(type_name) or type_name.split(".", 1)[-1]


def matches(query: str, type_name: str, description: str) -> bool:
    """Every word of the query appears in the type or its description (case-insensitive)."""
    haystack = f"{type_name} {description}".lower()
    return all(word in haystack for word in query.lower().split())


def match_rank(query: str, type_name: str, description: str) -> tuple[int, int, str] | None:
    """How well a layer matches what was typed (lower is better), or None for no match.

    The layer's own name counts before its description: "tanh" is nn.Tanh before nn.GELU
    (whose description mentions its tanh approximation), and "conv" finds Conv2d before
    ConvTranspose2d.
    """
    if not matches(query, type_name, description):
        return None
    words = query.lower().split()
    name = short_label(type_name).lower()
    if not words:
        return (3, len(name), type_name)
    if name == "".join(words):
        tier = 0
    elif name.startswith(words[0]):
        tier = 1
    elif all(word in type_name.lower() for word in words):
        tier = 2
    else:
        tier = 3
    return (tier, len(name), type_name)


# -- what fits -------------------------------------------------------------------------------
def connectable(spec: LayerSpec | None, wanted: Wanted) -> bool:
    """A layer with no input cannot be fed, one with no output cannot feed."""
    if spec is None:
        return True
    if wanted.fed and spec.max_inputs == 0:
        return False
    return not (wanted.feeding and not spec.outputs)


def fit(type_name: str, shape: Shape | None) -> int:
    """FITS, MAYBE or MISFITS: how a catalog layer takes a tensor of ``shape``.

    A layer whose name says its spatial rank (Conv2d, BatchNorm1d) fits the batched tensor
    of that rank; the unbatched reading its rule also accepts (Conv3d on a 4-D tensor) is
    only MAYBE. Blocks and unknown shapes are MAYBE."""
    if shape is None or block_name_of(type_name) is not None:
        return MAYBE
    verdict = _tried(type_name, tuple(shape))
    if verdict != FITS:
        return verdict
    return FITS if len(shape) in batched_ranks(type_name) else MAYBE


def batched_ranks(type_name: str) -> tuple[int, ...]:
    """The ranks of a batch for a layer named by its spatial rank; every rank otherwise."""
    found = re.search(r"([123])d$", type_name)
    if found is None:
        return tuple(range(0, 9))
    dims = int(found.group(1))
    spec = get_spec(type_name)
    if dims == 1 and spec is not None and spec.family == "norm":
        return (2, 3)  # BatchNorm1d takes (N, C) after a Linear as well as (N, C, L)
    return (dims + 2,)


@lru_cache(maxsize=4096)
def _tried(type_name: str, shape: Shape) -> int:
    """Run the layer's own rule on ``shape`` (through inference, as the canvas would)."""
    spec = get_spec(type_name)
    if spec is None or spec.max_inputs == 0:
        return MAYBE
    params = stand_in_params(spec)
    if params is None:
        return MAYBE
    network = Network(name="trial", nodes=[
        Node(id="feed", type="io.Input", name="feed", params={"shape": [1]},
             position=Position(x=0, y=0)),
        Node(id="layer", type=type_name, name="layer", params=params,
             position=Position(x=0, y=0))],
        edges=[Edge(source="feed", target="layer")])
    try:
        state = Inference(network, None, input_shapes={"feed": shape}).states["layer"]
    except (ArithmeticError, AttributeError, IndexError, KeyError, TypeError, ValueError):
        return MAYBE  # a rule that trips over a stand-in value says nothing about the rank
    if any(d.code == "rank-mismatch" and d.port in (0, None) for d in state.diagnostics):
        return MISFITS
    return FITS if state.outputs is not None or not state.diagnostics else MAYBE


_STAND_INS = {"int": 1, "ints": 1, "padding": 1, "dims": -1, "float": 1.0, "floats": 1.0,
              "bool": False, "str": "x", "int_list": [1], "shape": [-1], "index": [":"],
              "dtype": "float32", "literal": 1}


def stand_in_params(spec: LayerSpec) -> dict | None:
    """Values for the parameters a user must give, so the rule can run; None when one has
    no value that is sure to be accepted."""
    params = {}
    for param in spec.params:
        if param.required and not param.inferable:
            value = _stand_in(param)
            if value is None:
                return None
            params[param.name] = value
    return params


def _stand_in(param: ParamSpec):
    value = param.choices[0] if param.kind == "choice" and param.choices else \
        _STAND_INS.get(param.kind)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if param.minimum is not None and value < param.minimum:
            value = type(value)(param.minimum)
        if param.maximum is not None and value > param.maximum:
            value = type(value)(param.maximum)
    try:
        param.check_value(value)
    except (ParamError, TypeError, ValueError):
        return None
    return value


# -- the order -------------------------------------------------------------------------------
def commonness(type_name: str) -> int:
    return _COMMONNESS.get(type_name, len(COMMON_TYPES))


def ranked(entries: Iterable[Entry], query: str, wanted: Wanted = NOTHING,
           project: Project | None = None) -> list[Entry]:
    """The entries that match ``query`` and can be connected as ``wanted`` says, best first:
    the exact name, then names holding what was typed, then descriptions; within each, the
    layers that take the tensor, then the common ones, modules before their functional twins
    (nn.AvgPool1d before op.avg_pool1d), then by name. With nothing typed: fit, common
    ones, then A to Z."""
    typed = bool(query.split())
    scored = []
    for family, type_name, description in entries:
        match = match_rank(query, type_name, description)
        if match is None or not connectable(spec_for(type_name, project), wanted):
            continue
        # A name that starts with the word and one that holds it count alike ("norm" is
        # BatchNorm2d as much as normalize); fit and use decide between them.
        named = {0: 0, 1: 1, 2: 1}.get(match[0], 2) if typed else 0
        key = (named, fit(type_name, wanted.shape), commonness(type_name),
               type_name.startswith("op."), short_label(type_name).lower(), type_name)
        scored.append((key, (family, type_name, description)))
    return [entry for _, entry in sorted(scored)]


# -- numbers typed after the name ------------------------------------------------------------
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


def split_numbers(text: str) -> tuple[str, list[int | float]]:
    """``"conv2d 64 3"`` -> ``("conv2d", [64, 3])``: the numbers after the words are the
    layer's key parameters, in the order its glyph shows them (out_channels, kernel_size,
    stride for a convolution), as a paper's table lists them."""
    words = text.split()
    numbers: list[int | float] = []
    while len(words) > 1 and _NUMBER.match(words[-1]):
        word = words.pop()
        numbers.insert(0, float(word) if "." in word else int(word))
    return " ".join(words), numbers


def numbered_params(spec: LayerSpec | None, numbers: list[int | float]) -> dict:
    """The parameters the typed numbers give, checked as the inspector checks them; raises
    ValueError saying what the layer takes when they do not fit."""
    if not numbers:
        return {}
    names = spec.summary_params if spec is not None else ()
    label = short_label(spec.type) if spec is not None else "this layer"
    if len(numbers) > len(names):
        takes = f"takes {', '.join(names)}" if names else "takes no numbers here"
        raise ValueError(f"{label} {takes}")
    params = {}
    by_name = {p.name: p for p in spec.params}
    for name, value in zip(names, numbers):
        try:
            by_name[name].check_value(value)
        except (ParamError, TypeError, ValueError) as err:
            raise ValueError(str(err)) from None
        params[name] = value
    return params
