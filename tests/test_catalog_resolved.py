"""An invariant of inference: where validation reports no error, every required and every
inferable parameter of every node has a concrete value.

Code generation writes those parameters as constructor arguments; one left unset (or set to
a symbolic size) with no diagnostic to say so would generate ``nn.Linear(None, 8)``. Checked
on one-layer graphs of every sample setting of every type over inputs of rank 0 to 5, on
random graphs, and on the examples.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from graph_schema import load_project, validate
from graph_schema.blocks import infer_block
from graph_schema.catalog import all_specs, get_spec
from graph_schema.dims import Sym
from graph_schema.document import Project
from graph_schema.inference import Inference
from tests.catalog_case import one_layer
from tests.codegen_samples import SAMPLES
from tests.random_graphs import graphs

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.json"))

# Inputs of every rank, concrete and symbolic, batched and not.
SHAPES = [(), (8,), ("N", 8), (3, 8), (8, "L"), ("N", 4, 6), ("N", 4, "L"), ("L", "N", 8),
          ("N", 4, 6, 6), ("N", 2, 4, 6, 6)]


def _concrete(value) -> bool:
    if value is None or isinstance(value, Sym):
        return False
    if isinstance(value, (tuple, list)):
        return all(item is None or _concrete(item) for item in value)
    return True


def unresolved(project: Project, graph, inference: Inference) -> list[str]:
    """'graph/node.param' for each required or inferable parameter without a concrete value
    (blocks followed inside, per placement)."""
    found = []
    for node in graph.nodes:
        state = inference.states[node.id]
        if node.type.startswith("block:"):
            if node.called and state.inputs and all(s is not None for s in state.inputs):
                block = project.block(node.type[len("block:"):])
                inner = infer_block(project, block, state.inputs,
                                    {**block.arguments, **state.params})
                found += unresolved(project, block, inner)
            continue
        spec = get_spec(node.type)
        found += [f"{graph.name}/{node.name}.{p.name}={state.params.get(p.name)!r}"
                  for p in spec.params
                  if (p.required or p.inferable) and not _concrete(state.params.get(p.name))]
    return found


def check_invariant(project: Project) -> bool:
    """Assert the invariant; True when the project has no errors (the case counts)."""
    if any(d.is_error for d in validate(project)):
        return False
    for network in project.networks:
        missing = unresolved(project, network, Inference(network, project))
        assert not missing, f"no error diagnostic, yet unresolved: {missing}"
    return True


def _one_layer_cases(spec):
    inferable = set(spec.inferable)
    dtype = "int64" if spec.type == "nn.Embedding" else "float32"
    for sample in SAMPLES[spec.type]:
        params = {k: v for k, v in sample.items() if k not in inferable}
        for shape in SHAPES:
            arity = max(spec.min_inputs, 1) if spec.inputs else 0
            yield params, [shape] * arity, [dtype] * arity


RESOLVING = [s for s in all_specs()
             if s.family != "io" and any(p.required or p.inferable for p in s.params)]


@pytest.mark.parametrize("family", sorted({s.family for s in RESOLVING}))
def test_a_layer_without_errors_has_its_parameters_resolved(family):
    valid = 0
    for spec in (s for s in RESOLVING if s.family == family):
        for params, shapes, dtypes in _one_layer_cases(spec):
            valid += check_invariant(one_layer(spec.type, params, shapes, dtypes))
    assert valid >= 5, f"too few valid {family} cases to check anything: {valid}"


def test_inferable_parameters_are_resolved_on_a_1d_input():
    """The sweep's sharpest edge, spelled out: an unbatched vector is a valid input."""
    for type_name, params in [("nn.Linear", {"out_features": 3}),
                              ("nn.LSTMCell", {"hidden_size": 3}),
                              ("nn.BatchNorm1d", {})]:
        project = one_layer(type_name, params, [("N", 8) if "Norm" in type_name else (8,)])
        assert check_invariant(project), [d.format() for d in validate(project)]


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graphs(max_steps=6, branching=True))
def test_random_graphs_have_their_parameters_resolved(project):
    assert check_invariant(project)  # drawn valid: an error here is a bug of its own


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_have_their_parameters_resolved(path):
    assert check_invariant(load_project(path))
