"""The strict acid test of import, shared by every test that imports a model: import it, generate
code from the diagram (reopened from its file), load the original state_dict with strict=True,
and get the same outputs:

- with norm statistics and affine parameters randomised first (a fresh BatchNorm in eval mode is
  nearly the identity and would hide a lost layer);
- on clones of the inputs (an in-place op on an input must not hide a difference);
- in eval mode at two batch sizes, and in train mode with the same seed (same dropout masks,
  same batch statistics);
- from a generated file that imports only torch and the standard library.

It says whether the pass drew every class or kept some as source, so that callers count the two
apart (`Verdict.kept`).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from codegen.importer import import_model_with_report, recording
from graph_schema import project_from_json, validate
from graph_schema.drawn import Drawn, drawn
from graph_schema.files import project_to_json
from tests.codegen_support import class_names, generate_and_import

ALLOWED_IMPORTS = {"torch", "__future__"} | set(sys.stdlib_module_names)


@dataclass
class Verdict:
    project: object
    source: str
    model: nn.Module
    generated: nn.Module
    drawn: Drawn
    warnings: list[str]

    @property
    def kept(self) -> tuple[str, ...]:
        return self.drawn.kept


def flat(result) -> list[torch.Tensor]:
    """The tensors of an output, however it nests them (tuples, lists, dicts, ModelOutput)."""
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, dict):
        return [t for key in result for t in flat(result[key])]
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in flat(item)]
    return []


def randomise_norms(model: nn.Module, seed: int = 3) -> None:
    generator = torch.Generator().manual_seed(seed)
    norms = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._NormBase) and module.track_running_stats:
                module.running_mean.copy_(torch.randn(module.running_mean.shape,
                                                      generator=generator))
                module.running_var.copy_(torch.rand(module.running_var.shape,
                                                    generator=generator) + 0.5)
            if isinstance(module, norms) and getattr(module, "weight", None) is not None:
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                if module.bias is not None:
                    module.bias.copy_(torch.randn(module.bias.shape, generator=generator))


def same_outputs(model: nn.Module, generated: nn.Module, inputs: tuple, train: bool,
                 rtol: float = 1e-4, atol: float = 1e-5) -> None:
    model.train(train)
    generated.train(train)
    torch.manual_seed(11)
    expected = flat(model(*(t.clone() for t in inputs)))
    torch.manual_seed(11)
    got = flat(generated(*(t.clone() for t in inputs)))
    assert expected and len(expected) == len(got)
    for a, b in zip(expected, got):
        assert a.shape == b.shape
        assert torch.allclose(a, b, rtol=rtol, atol=atol), (a - b).abs().max()


def imported_modules(source: str) -> set[str]:
    """The top-level packages the generated file imports."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def acid(build: Callable[[], nn.Module], inputs: Callable[[int], tuple], tmp_path: Path, *,
         any_batch: bool = True, train: bool = True, randomise: bool = True,
         rtol: float = 1e-4, atol: float = 1e-5) -> Verdict:
    """The verdict once the round trip holds; an AssertionError says where it does not."""
    torch.manual_seed(0)
    with recording():
        model = build()
    if randomise:
        randomise_norms(model)
    imported = import_model_with_report(model, inputs(2))
    project = imported.project
    assert not [d for d in validate(project) if d.is_error]
    reopened = project_from_json(project_to_json(project))
    source, module, _ = generate_and_import(reopened, tmp_path)
    assert imported_modules(source) <= ALLOWED_IMPORTS, imported_modules(source)
    generated = getattr(module, class_names(source)[-1])()
    generated.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        for batch in (2, 3) if any_batch else (2,):
            same_outputs(model, generated, inputs(batch), False, rtol, atol)
        if train:
            same_outputs(model, generated, inputs(2), True, rtol, atol)
    return Verdict(reopened, source, model, generated, drawn(reopened), imported.warnings)
