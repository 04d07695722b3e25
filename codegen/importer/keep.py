"""Classes kept as their source: the class's text, the names it needs, its constructor's
arguments. Nothing here runs the class; its source is read with ``inspect`` and ``ast``."""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import sys
import textwrap
import types
from typing import Any

from torch import nn

from codegen.importer.errors import ModelImportError
from codegen.importer.recording import recorded_arguments
from graph_schema.document import ImportedName, name_problem, opaque_source_problem
from graph_schema.trust import import_allowed

_JSON = (bool, int, float, str, type(None))


def class_source(cls: type) -> str:
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError) as err:
        raise ModelImportError(f"class {cls.__name__} cannot be drawn and its source cannot be "
                               f"read to keep it ({err})") from None
    problem = opaque_source_problem(source, cls.__name__)
    if problem:
        raise ModelImportError(f"class {cls.__name__} cannot be kept as source: {problem}")
    return source


def _free_names(source: str) -> set[str]:
    """Names the class reads but does not define itself (a rough but safe over-estimate:
    anything it assigns anywhere counts as its own)."""
    tree = ast.parse(source)
    loaded, stored = set(), set()
    for item in ast.walk(tree):
        if isinstance(item, ast.Name):
            (loaded if isinstance(item.ctx, ast.Load) else stored).add(item.id)
        elif isinstance(item, ast.arg):
            stored.add(item.arg)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(item.name)
        elif isinstance(item, (ast.Import, ast.ImportFrom)):
            stored |= {(a.asname or a.name).split(".")[0] for a in item.names}
    return loaded - stored - set(dir(builtins))


def needed_names(cls: type) -> tuple[list[ImportedName], list[type]]:
    """(imports, other user classes) the source of ``cls`` refers to at module level."""
    source = class_source(cls)
    namespace = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
    imports, classes = [], []
    for name in sorted(_free_names(source)):
        if name == cls.__name__ or name not in namespace:
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            if not import_allowed(value.__name__):
                raise _foreign(cls, name, f"the module {value.__name__}")
            imports.append(ImportedName(module=value.__name__, alias=name))
        elif isinstance(value, type) and issubclass(value, nn.Module) and \
                not value.__module__.startswith("torch"):
            classes.append(value)
        elif getattr(value, "__module__", None) and import_allowed(value.__module__) and \
                getattr(sys.modules.get(value.__module__), getattr(value, "__name__", ""),
                        None) is value:
            imports.append(ImportedName(module=value.__module__, attribute=value.__name__,
                                        alias=name))
        elif value is math.pi or value is math.e:
            imports.append(ImportedName(module="math", attribute="pi" if value is math.pi
                                        else "e", alias=name))
        else:
            raise _foreign(cls, name, type(value).__name__)
    return imports, classes


def _foreign(cls: type, name: str, what: str) -> ModelImportError:
    return ModelImportError(
        f"class {cls.__name__} cannot be drawn, and keeping its source is not enough: it uses "
        f"{name!r} ({what}) from its module, which generated code would not have")


def constructor_arguments(module: nn.Module) -> dict[str, Any]:
    """The arguments that built ``module``, as JSON values."""
    cls = type(module)
    recorded = recorded_arguments(module)
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        signature = None
    if recorded is None:
        recorded = _from_attributes(module, signature)
    found = {}
    for name, value in recorded.items():
        problem = name_problem(name)
        if problem:
            raise ModelImportError(f"class {cls.__name__} is kept as source, but its "
                                   f"constructor argument {name!r} cannot be passed by name "
                                   f"in generated code ({problem})")
        found[name] = _json(cls, name, value)
    return found


def _from_attributes(module: nn.Module, signature) -> dict[str, Any]:
    cls = type(module)
    if signature is None:
        raise ModelImportError(f"class {cls.__name__} is kept as source, but its constructor's "
                               f"arguments cannot be read")
    found = {}
    for name, parameter in list(signature.parameters.items())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in vars(module) and isinstance(vars(module)[name], (*_JSON, tuple, list)):
            found[name] = vars(module)[name]
        elif parameter.default is not parameter.empty:
            found[name] = parameter.default
        else:
            raise ModelImportError(
                f"class {cls.__name__} cannot be drawn (so it is kept as source), and the value "
                f"of its constructor argument {name!r} is unknown: import with `torchcanvas "
                f"import`, or build the model inside codegen.importer.recording()")
    return found


def _json(cls: type, name: str, value: Any) -> Any:
    if isinstance(value, _JSON) and not (isinstance(value, float) and not math.isfinite(value)):
        return value
    if isinstance(value, (tuple, list)):
        return [_json(cls, name, v) for v in value]
    raise ModelImportError(
        f"class {cls.__name__} cannot be drawn (so it is kept as source), but its constructor "
        f"argument {name}={value!r} is not a plain value a project file can hold")
