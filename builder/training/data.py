"""DATA: parse the `--data` text, load it shaped for the model's input, split it by seed.

Forms (the text after `--data`):

    digits                                  scikit-learn's bundled 8x8 digits, scaled to [0, 1]
    synthetic:shape=3,32,32,classes=10,n=5000[,seed=0]    classification (class prototypes + noise)
    synthetic:shape=8,targets=1,n=500[,seed=0]            regression (a linear map + noise)
    synthetic:vocab=1000,shape=64,classes=4,n=2000        token ids (classes own marker ids)
    synthetic:pairs[,vocab=1000][,shape=32][,n=2000]      two inputs; 1 when the second is a
                                                          perturbed copy of the first, else 0
    npz:PATH                                arrays `x` and `y` (integer y: classes, float: targets)
    csv:PATH[:target=COL][,task=classification|regression]
    folder:PATH                             one subfolder per class, read with Pillow
    python:MODULE:FACTORY | python:FILE.py:FACTORY    FACTORY() returns a map-style Dataset

`shape` may be left out of synthetic to take the model's own input shape(s). A model whose input
is int64 (an embedding's ids) gets token ids below its smallest nn.Embedding's size unless `vocab`
says otherwise. Every failure is a DataError whose message is one line saying what and where.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from builder.training import data_fit as fit
from builder.training import data_sources as sources
from builder.training import data_tokens as tokens
from builder.training.config import DATA_FORMS
from builder.training.data_sources import DataError
from builder.training.inputs import ModelInput, as_model_inputs

__all__ = ["DataError", "DataSpec", "parse_data", "load_dataset", "split", "FORMS"]

FORMS = DATA_FORMS
SYNTHETIC_KEYS = ("shape", "classes", "targets", "n", "seed", "vocab")
PAIRS = "pairs"  # the flag of synthetic:pairs, written before the keys
CSV_KEYS = ("target", "task")
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class DataSpec:
    """A parsed DATA text. `options` holds the form's keys already converted to their types."""

    kind: str
    path: Path | None = None
    options: dict = field(default_factory=dict)
    text: str = ""


# --- parsing -----------------------------------------------------------------------------------


def parse_data(text: str) -> DataSpec:
    kind, _, rest = text.strip().partition(":")
    parsers = {"digits": _parse_digits, "synthetic": _parse_synthetic, "npz": _parse_path,
               "csv": _parse_csv, "folder": _parse_path, "python": _parse_python}
    if kind not in parsers:
        raise DataError(f"--data {text!r}: unknown form {kind!r} (expected {FORMS})")
    return parsers[kind](kind, rest, text)


def _parse_digits(kind: str, rest: str, text: str) -> DataSpec:
    if rest:
        raise DataError(f"--data {text!r}: digits takes no options")
    return DataSpec(kind, text=text)


def _parse_path(kind: str, rest: str, text: str) -> DataSpec:
    if not rest:
        raise DataError(f"--data {text!r}: {kind} needs a path ({kind}:PATH)")
    return DataSpec(kind, path=Path(rest), text=text)


def _parse_csv(kind: str, rest: str, text: str) -> DataSpec:
    # Options trail after the last ':' only when they look like key=value, so a Windows drive
    # letter (C:\data.csv) or a ':' in a folder name stays part of the path.
    path, options = rest, {}
    head, sep, tail = rest.rpartition(":")
    if sep and re.match(r"^\w+=", tail):
        path, options = head, _key_values(tail, CSV_KEYS, text)
    if options.get("task") not in (None, *TASKS):
        raise DataError(f"--data {text!r}: task must be classification or regression")
    spec = _parse_path(kind, path, text)
    return DataSpec(kind, path=spec.path, options=options, text=text)


def _parse_python(kind: str, rest: str, text: str) -> DataSpec:
    target, sep, factory = rest.rpartition(":")
    if not sep or not target or not factory.isidentifier():
        raise DataError(f"--data {text!r}: expected python:MODULE:FACTORY "
                        "or python:FILE.py:FACTORY")
    return DataSpec(kind, options={"target": target, "factory": factory}, text=text)


def _parse_synthetic(kind: str, rest: str, text: str) -> DataSpec:
    pairs = rest == PAIRS or rest.startswith(PAIRS + ",")
    if pairs:
        rest = rest[len(PAIRS) + 1:]
    options = _synthetic_options(rest, text)
    if pairs:
        if {"classes", "targets"} & set(options):
            raise DataError(f"--data {text!r}: pairs have two classes (match or not); "
                            "drop classes= and targets=")
        options.update(pairs=True, classes=2)
    if "targets" not in options:
        options.setdefault("classes", 10)
    if "targets" in options and "vocab" in options:
        raise DataError(f"--data {text!r}: token ids (vocab=) are for classification, "
                        "not targets=")
    return DataSpec(kind, options=options, text=text)


def _synthetic_options(rest: str, text: str) -> dict:
    raw = _key_values(rest, SYNTHETIC_KEYS, text) if rest else {}
    options = {"n": 1000, "seed": 0}
    for key, value in raw.items():
        try:
            numbers = tuple(int(v) for v in value.split(","))
        except ValueError:
            raise DataError(f"--data {text!r}: {key}={value!r} is not a whole number") from None
        if key != "shape" and len(numbers) != 1:
            raise DataError(f"--data {text!r}: {key} takes one number, got {value!r}")
        low = 0 if key == "seed" else 1
        if any(v < low for v in numbers):
            raise DataError(f"--data {text!r}: {key}={value} must be >= {low}")
        options[key] = numbers if key == "shape" else numbers[0]
    if "classes" in options and "targets" in options:
        raise DataError(f"--data {text!r}: give classes= (classification) or targets= "
                        "(regression), not both")
    return options


def _key_values(text: str, keys: Sequence[str], whole: str) -> dict[str, str]:
    """'shape=3,32,32,classes=10' -> {'shape': '3,32,32', 'classes': '10'}: a token without '='
    continues the previous key's value, which is how a shape's commas read naturally."""
    result: dict[str, str] = {}
    key = None
    for token in text.split(","):
        name, eq, value = token.partition("=")
        if eq:
            key = name.strip()
            if key not in keys:
                raise DataError(f"--data {whole!r}: unknown key {key!r} (keys: {', '.join(keys)})")
            if key in result:
                raise DataError(f"--data {whole!r}: key {key!r} given twice")
            result[key] = value.strip()
        elif key is None or not token.strip():
            raise DataError(f"--data {whole!r}: expected key=value, got {token!r}")
        else:
            result[key] += "," + token.strip()
    return result


# --- loading and fitting -----------------------------------------------------------------------


class ArrayDataset(TensorDataset):
    """A TensorDataset that also says what it is for, so the loop can pick the loss and metric.
    A sample is (x, y); x is a tuple of tensors when `x` holds several inputs."""

    def __init__(self, x: torch.Tensor | tuple[torch.Tensor, ...], y: torch.Tensor, task: str,
                 num_classes: int | None, classes: list[str] | None = None):
        inputs = x if isinstance(x, tuple) else (x,)
        super().__init__(*inputs, y)
        self.n_inputs = len(inputs)
        self.task = task
        self.num_classes = num_classes
        self.classes = classes  # class names (a folder: dataset's subfolders), or None

    def __getitem__(self, index):
        *inputs, y = super().__getitem__(index)
        return (inputs[0] if self.n_inputs == 1 else tuple(inputs)), y


def load_dataset(spec: DataSpec, model_input) -> Dataset:
    """Load `spec` shaped for the model: `model_input` is its io.Input's shape with the batch dim
    (e.g. ['N', 1, 8, 8]; a string dim accepts any size), or a list of ModelInputs (one per
    input, with dtypes). None (a SPEC without --input-shape): samples keep the shape they have."""
    inputs = as_model_inputs(model_input)
    if spec.kind == "python":
        return fit.fit_user_dataset(sources.call_factory(**spec.options), inputs, spec.text)
    raw = _read(spec, inputs)
    x = fit.fit_inputs(raw, inputs, spec.text)
    if raw.y.dtype == torch.int64:
        classes = int(raw.y.max()) + 1 if len(raw.y) else 0
        return ArrayDataset(x, raw.y, "classification", classes, raw.classes)
    return ArrayDataset(x, raw.y.float(), "regression", None)


def _read(spec: DataSpec, inputs: list[ModelInput] | None) -> sources.Raw:
    opts = spec.options
    if spec.kind == "digits":
        return sources.read_digits()
    if spec.kind == "synthetic":
        return _read_synthetic(spec, inputs)
    target = fit.sample_shape(inputs[0]) if inputs else None
    if spec.kind == "npz":
        return sources.read_npz(spec.path)
    if spec.kind == "csv":
        return sources.read_csv(spec.path, opts.get("target"), opts.get("task"))
    mode, size = fit.image_target(target, spec.text)
    return sources.read_folder(spec.path, mode, size)


def _read_synthetic(spec: DataSpec, inputs: list[ModelInput] | None) -> sources.Raw:
    opts, text = spec.options, spec.text
    count = 2 if opts.get("pairs") else 1
    shapes = _synthetic_shapes(opts, inputs, count, text)
    token_inputs = [i for i in inputs or () if i.is_tokens]
    if "vocab" in opts and inputs and inputs[0].name and not token_inputs:
        raise DataError(f"--data {text!r}: vocab= makes token ids, but the model's input "
                        f"{inputs[0].name!r} is {inputs[0].dtype}")
    vocab = opts.get("vocab") or min((i.vocab for i in token_inputs if i.vocab), default=None)
    if token_inputs and vocab is None:
        raise DataError(f"--data {text!r}: the model takes token ids and no nn.Embedding says "
                        "how many; give vocab=...")
    n, seed = opts["n"], opts["seed"]
    if vocab is None:
        if count == 2:
            return tokens.read_float_pairs((shapes[0], shapes[1]), n, seed)
        return sources.read_synthetic(shapes[0], n, seed, opts.get("classes"),
                                      opts.get("targets"))
    lengths = [fit.sequence_length(shape, text) for shape in shapes]
    if count == 2:
        return tokens.read_token_pairs((lengths[0], lengths[1]), vocab, n, seed)
    return tokens.read_token_classes(lengths[0], vocab, n, seed, opts["classes"])


def _synthetic_shapes(opts: dict, inputs: list[ModelInput] | None, count: int,
                      text: str) -> list[tuple[int, ...]]:
    """One concrete sample shape per input the synthetic set makes."""
    if inputs is not None and len(inputs) == 1 and not inputs[0].name:
        inputs = inputs * count  # a bare --input-shape: the shape of each input
    if inputs is not None:
        fit.check_count(count, inputs, text)
    if "shape" in opts:
        return [opts["shape"]] * count
    if inputs is None:
        fit.concrete(None, text, "")
    return [fit.concrete(fit.sample_shape(i), text, "give shape=...") for i in inputs]


# --- splitting ---------------------------------------------------------------------------------


def split(dataset: Dataset, seed: int,
          fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> tuple[Subset, Subset, Subset]:
    """Train/val/test subsets; the same seed gives the same samples in each, on any machine."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise DataError(f"split fractions must be three non-negative numbers summing to 1, "
                        f"got {tuple(fractions)}")
    if len(dataset) == 0:
        raise DataError("cannot split an empty dataset")
    # Its own generator, so the split does not depend on (or disturb) the global RNG state.
    # (Not random_split: it warns on an empty part, and a 1.0/0/0 split is a fair thing to ask.)
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val, n_test = (math.floor(len(dataset) * f) for f in fractions[1:])
    n_train = len(dataset) - n_val - n_test  # rounding leftovers go to training
    train = Subset(dataset, order[:n_train])
    val = Subset(dataset, order[n_train:n_train + n_val])
    test = Subset(dataset, order[n_train + n_val:])
    if len(train) == 0:
        raise DataError(f"{len(dataset)} samples are too few for a training split of "
                        f"{fractions[0]}")
    return train, val, test
