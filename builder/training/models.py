"""The model to train, from a project FILE or a SPEC, as source first and modules second.

A project is turned into the source `torchcanvas generate` writes, saved as the run folder's
model.py, and imported from there: what is trained is exactly what the folder keeps (nothing is
pickled). A SPEC (`path/to/file.py:Name`, `package.module:Name`) is imported as `import` takes it
and its file is copied to model.py for the record.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from builder.training.config import is_spec
from builder.training.inputs import ModelInput, model_inputs_of
from graph_schema import load_project, validate
from graph_schema.diagnostics import Diagnostic


class ModelError(Exception):
    """The model cannot be built (exit 2): a SPEC that does not resolve, a failing constructor."""


class ProjectErrors(Exception):
    """The project has errors (exit 1); `diagnostics` says which and where."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]):
        super().__init__(f"{path}: the project has {len(diagnostics)} error(s); fix them first "
                         f"(`torchcanvas validate {path}`)")
        self.path, self.diagnostics = path, diagnostics


@dataclass
class ModelSource:
    """What will be trained, before any of it runs."""

    label: str  # the FILE or SPEC as given
    source: str  # the text saved as model.py
    input_shapes: dict[str, tuple] = field(default_factory=dict)  # network -> io.Input shape
    inputs: dict[str, list[ModelInput]] = field(default_factory=dict)  # network -> its inputs
    class_names: dict[str, str] = field(default_factory=dict)  # network -> generated class
    project: object | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings and lints
    kwargs: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


def read_source(target: str, kwargs: dict, trust_kept_source: bool = False) -> ModelSource:
    return (_spec_source(target, kwargs) if is_spec(target)
            else _project_source(target, trust_kept_source))


def _project_source(path: str, trust_kept_source: bool) -> ModelSource:
    from codegen import GenerationError, generate_source
    from codegen.classes import class_name_for

    project = load_project(path)  # ProjectError: exit 2 with its own message
    diagnostics = validate(project)
    errors = [d for d in diagnostics if d.is_error
              and not (trust_kept_source and d.code == "untrusted-source")]
    if errors:
        raise ProjectErrors(path, errors)
    try:
        source = generate_source(project, trust_kept_source=trust_kept_source)
    except GenerationError as err:
        raise ProjectErrors(path, list(err.diagnostics)) if err.diagnostics \
            else ModelError(f"{path}: cannot generate code: {err}") from None
    shapes, inputs, names = {}, {}, {}
    for network in project.networks:
        inputs[network.name] = model_inputs_of(project, network)
        if len(inputs[network.name]) == 1:
            shapes[network.name] = inputs[network.name][0].shape
        names[network.name] = class_name_for(network.name)
    return ModelSource(path, source, shapes, inputs, names, project, diagnostics)


def _spec_source(spec: str, kwargs: dict) -> ModelSource:
    location, _, _name = spec.rpartition(":")
    if location.endswith(".py"):
        file = Path(location)
        if not file.is_file():
            raise ModelError(f"SPEC {spec!r}: no such file: {location}")
        source = file.read_text(encoding="utf-8", errors="replace")
    else:
        source = f"# {spec}: imported from an installed module; its source is not kept here\n"
    return ModelSource(spec, source, kwargs=kwargs)


def build_models(source: ModelSource, model_py: Path,
                 networks: list[str] | None = None) -> dict[str, nn.Module]:
    """Modules by network name: a project's classes imported from `model_py` (which must hold
    `source.source`), or the SPEC's object built with its kwargs (under the name "model")."""
    if source.project is None:
        return {"model": _build_spec(source)}
    module = _import_file(model_py, f"torchcanvas_run_{source.sha256[:12]}")
    wanted = networks or list(source.class_names)
    return {name: getattr(module, source.class_names[name])() for name in wanted}


def _build_spec(source: ModelSource) -> nn.Module:
    from builder.import_worker import Failure, build, resolve_spec

    try:
        target = resolve_spec(source.label)
        model = build(target, source.label, source.kwargs)
    except Failure as err:
        raise ModelError(str(err)) from None
    if not isinstance(model, nn.Module):
        raise ModelError(f"{source.label} gave a {type(model).__name__}, not an nn.Module")
    if source.source.startswith("# ") and inspect.getmodule(type(model)) is not None:
        try:  # an installed module: keep its source after all, when Python can find it
            source.source = inspect.getsource(inspect.getmodule(type(model)))
        except (OSError, TypeError):
            pass
    return model


def _import_file(path: Path, module_name: str):
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModelError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # kept-source classes look themselves up here
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[module_name]
        raise ModelError(f"{path}: the generated model does not load: "
                         f"{type(err).__name__}: {err}") from None
    return module

