"""Property-based code generation over random valid graphs drawn from the whole catalog.

For each graph (tests/random_graphs.py draws them from tests/codegen_samples.py's SAMPLES):
generate_source -> ruff check and ruff format clean -> import -> build -> forward on CPU, with
every module's inputs and outputs, and every network output, of the shape inference promised,
and as many parameters as the summary counts.

On failure hypothesis prints the drawn project as JSON (``note``): save it to a file and run
``torchcanvas generate`` on it to see the problem; ``print_blob`` gives the decorator that
replays the exact example.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings

from graph_schema.catalog import all_specs
from graph_schema.document import Project
from tests.codegen_samples import INPUTS, NOT_SWEPT, SAMPLES
from tests.random_graphs import NEEDS_TWO, Draft, base_name, check_generated, choices, fits, graphs

__all__ = ["SAMPLES"]  # tests/test_codegen_features.py reads them from here

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:dropout option adds dropout")]


def test_samples_name_every_catalog_type():
    types = {s.type for s in all_specs() if s.family != "io"}
    assert not types - set(SAMPLES), \
        f"add settings for {sorted(types - set(SAMPLES))} to SAMPLES in tests/codegen_samples.py"
    assert set(SAMPLES) <= types, sorted(set(SAMPLES) - types)


def _sweep(shape: list, dtype: str) -> tuple[Project, set[str]]:
    """Every sample that fits this input directly, each as a branch of one graph."""
    draft = Draft.start(shape, dtype, "x")
    source = draft.tensors[0]
    for arity in (1, 2):
        for type_name, options in sorted(choices([source] * arity).items()):
            if arity == 2 and type_name not in NEEDS_TWO:
                continue
            for params, outputs in options:
                draft.add(type_name, params, [source] * arity, outputs,
                          f"{base_name(type_name)}_{len(draft.nodes)}")
    types = {n.type for n in draft.nodes[1:]}
    return draft.project(draft.unused()), types


@pytest.mark.parametrize("shape, dtype", INPUTS, ids=[str(s) for s, _ in INPUTS])
def test_every_fitting_sample_generates_and_runs(shape, dtype, tmp_path):
    project, _ = _sweep(shape, dtype)
    check_generated(project, tmp_path)


def test_the_sweeps_cover_the_catalog():
    covered = set().union(*(_sweep(shape, dtype)[1] for shape, dtype in INPUTS))
    assert covered == set(SAMPLES) - set(NOT_SWEPT), sorted(set(SAMPLES) - covered)


_SETTINGS = settings(max_examples=50, deadline=None, print_blob=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_SETTINGS
@given(graphs(max_steps=6, branching=False))
def test_random_chains_generate_and_run(project):
    note(project.model_dump_json(indent=1))
    with tempfile.TemporaryDirectory() as directory:
        check_generated(project, Path(directory))


@_SETTINGS
@given(graphs(max_steps=8, branching=True))
def test_random_dags_generate_and_run(project):
    note(project.model_dump_json(indent=1))
    with tempfile.TemporaryDirectory() as directory:
        check_generated(project, Path(directory))


@pytest.mark.parametrize("count", [2, 4, 5, 6, 12])
def test_many_outputs_stay_ruff_clean(count, tmp_path):
    """forward()'s return annotation once ran past the line limit from five outputs on."""
    draft = Draft.start(["N", 8], "float32", "x")
    source = draft.tensors[0]
    for _ in range(count):
        draft.add("nn.Linear", {"out_features": 3}, [source],
                  fits("nn.Linear", {"out_features": 3}, [source]), "fc")
    check_generated(draft.project(draft.unused()), tmp_path)


def _chain(shape: list, layers: list[tuple], input_name: str = "x",
           inputs_per_layer: int = 1) -> Project:
    """A straight chain (each layer fed the previous tensor, ``inputs_per_layer`` times)."""
    draft = Draft.start(shape, "float32", input_name)
    for type_name, params, name, *init in layers:
        inputs = [draft.tensors[-1]] * inputs_per_layer
        outputs = fits(type_name, params, inputs)
        assert outputs is not None, (type_name, params, inputs)
        draft.add(type_name, params, inputs, outputs, name, *init)
    return draft.project(draft.unused())


def _expanded_like_another_tensor() -> Project:
    """x.expand(...) with its sizes read from relu(x), which has x's batch N too."""
    draft = Draft.start(["N", 4], "float32", "x")
    x = draft.tensors[0]
    draft.add("op.relu", {}, [x], fits("op.relu", {}, [x]), "activated")
    inputs = [x, draft.tensors[-1]]
    # A line between them, so the second input is a named variable expand must read.
    draft.add("op.sigmoid", {}, [x], fits("op.sigmoid", {}, [x]), "gate")
    draft.add("op.expand_to", {"sizes": ["N", -1]}, inputs,
              fits("op.expand_to", {"sizes": ["N", -1]}, inputs), "expanded")
    return draft.project(draft.unused())


LONG = "a_rather_long_name_for_this_layer_in_the_encoder"

# Graphs that once generated code that would not run or was not ruff-clean, each pinned here.
REGRESSIONS = {
    # nn.Unflatten(dim, unflattened_size) needs dim, although the diagram's default is 1.
    "unflatten-default-dim": _chain(["N", 12], [("nn.Unflatten", {"unflattened_size": [3, -1]},
                                                 "unflatten")]),
    # x.split(...) of one piece is still a tuple: (piece,) = ...
    "split-into-one-piece": _chain(["N", 4], [("op.split", {"split_size_or_sections": 4,
                                                           "dim": 1}, "piece")]),
    # Unpacking targets longer than a line: ruff splits them, not the call.
    "long-unpacking-target": _chain(["N", 12], [("op.chunk", {"chunks": 6, "dim": 1}, LONG)]),
    # `a, b = self.layer(` too long: the right-hand side goes in parentheses.
    "long-call-head": _chain(["N", 4, 8], [("nn.MaxPool1d", {"kernel_size": 2,
                                                            "return_indices": True}, LONG)]),
    # An operation too long for one line in parentheses: one operand a line.
    "long-operation": _chain(["N", 4], [("op.add", {}, "total")], input_name=LONG + "_xx",
                             inputs_per_layer=2),
    # A subscript splits inside its brackets.
    "long-subscript": _chain(["N", 4, 9, 5, 6, 7, 8], [
        ("op.getitem", {"index": [":", "1:-1", "::2", "0:3", "-2:", "1:", "2:"]}, "part")],
        input_name=LONG),
    # A list argument too long for its line: one item a line, as ruff splits a list.
    "long-list-argument": _chain(["N", 4], [("op.cat", {"dim": 1}, "joined")], input_name=LONG,
                                 inputs_per_layer=2),
    # expand_to reads N from its second input even when the first has an N too (else the
    # second input's variable was never read, which ruff reports as F841).
    "expand-to-reads-its-second-input": _expanded_like_another_tensor(),
    # _init_weights(self.<long name>, ...) split like any call.
    "long-init-call": _chain(["N", 4], [("nn.Linear", {"out_features": 3}, LONG,
                                         "kaiming_normal")]),
}


@pytest.mark.parametrize("name", REGRESSIONS)
def test_regressions_generate_and_run(name, tmp_path):
    check_generated(REGRESSIONS[name], tmp_path)
