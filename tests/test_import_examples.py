"""Every example project survives the round trip: its generated module, imported back, gives
a diagram whose own generated code loads the first module's weights with strict=True and
computes the same outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codegen import generate_source, import_model
from graph_schema import load_project, validate
from graph_schema.inference import Inference
from tests.codegen_support import (
    class_names,
    concrete_project,
    generate_and_import,
    import_path,
    is_heavy,
    make_inputs,
    write_module,
)

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_round_trips_through_import(path, tmp_path):
    example = load_project(path)
    first_module = import_path(write_module(generate_source(example), tmp_path, "first"))
    first_source = generate_source(example)
    for index, network in enumerate(example.networks):
        if is_heavy(network):
            continue  # its *_cifar network round-trips the same blocks
        name = class_names(first_source)[-len(example.networks) + index]
        torch.manual_seed(0)
        original = getattr(first_module, name)()
        concrete = concrete_project(example)
        inputs = make_inputs(concrete, concrete.network(network.name),
                             Inference(concrete.network(network.name), concrete))
        imported = import_model(original, tuple(inputs))
        assert not [d for d in validate(imported) if d.is_error]
        source, module, _ = generate_and_import(imported, tmp_path)
        rebuilt = getattr(module, class_names(source)[-1])()
        rebuilt.load_state_dict(original.state_dict(), strict=True)
        original.eval()
        rebuilt.eval()
        with torch.no_grad():
            expected, got = original(*inputs), rebuilt(*inputs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = got if isinstance(got, tuple) else (got,)
        for a, b in zip(expected, got, strict=True):
            assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
