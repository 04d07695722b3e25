"""Import a model, generate its code, load its weights strictly and compare outputs."""

from __future__ import annotations

from pathlib import Path

import torch

from codegen import import_model
from graph_schema import validate
from tests.codegen_support import class_names, generate_and_import


def round_trip(model: torch.nn.Module, inputs: tuple, directory: Path, lint: bool = True):
    """(project, source, generated model) after checking the outputs agree in eval mode."""
    project = import_model(model, inputs)
    assert not [d for d in validate(project) if d.is_error]
    source, module, _ = generate_and_import(project, directory, lint=lint)
    generated = getattr(module, class_names(source)[-1])()
    generated.load_state_dict(model.state_dict(), strict=True)
    model.eval()
    generated.eval()
    with torch.no_grad():
        expected, got = model(*inputs), generated(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for a, b in zip(expected, got, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    return project, source, generated
