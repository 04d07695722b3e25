"""Classes kept as their source: the class's text, the names it needs, its constructor's
arguments. Nothing here runs the class; its source is read with ``inspect`` and ``ast``.

A kept source may use what its own files define at module level: helper functions
(``conv1x1_block``) and classes that are not modules (a ``torch.autograd.Function``). Those
are kept too, verbatim, each as a block of its own that the source requires, with the names
they need in turn, under the same rules: the same allowed imports, and the same trust (each
is signed by the import that read it, and becomes code only when trusted).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import os
import sys
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from codegen.importer.import_errors import ModelImportError
from codegen.importer.recording import recorded_arguments
from graph_schema.document import ImportedName, name_problem, opaque_source_problem
from graph_schema.trust import import_allowed

_JSON = (bool, int, float, str, type(None))


def kind_of(item: Any) -> str:
    return "class" if isinstance(item, type) else "function"


def class_source(item: Any) -> str:
    """The source of a class (or helper function) to keep, checked as the document checks
    it: one definition of that name and nothing else."""
    what = f"{kind_of(item)} {item.__name__}"
    try:
        source = textwrap.dedent(inspect.getsource(item))
    except (OSError, TypeError) as err:
        raise ModelImportError(f"{what} cannot be drawn and its source cannot be read to "
                               f"keep it ({err})") from None
    problem = opaque_source_problem(source, item.__name__)
    if problem:
        raise ModelImportError(f"{what} cannot be kept as source: {problem}")
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


@dataclass
class Needs:
    """What a kept source refers to at module level."""

    imports: list[ImportedName] = field(default_factory=list)
    classes: list[type] = field(default_factory=list)  # nn.Module classes it builds
    helpers: list[Any] = field(default_factory=list)  # functions and other classes it uses

    @property
    def kept(self) -> list[Any]:
        """Everything else that must be kept as source for this one to run."""
        return [*self.classes, *self.helpers]


def needed_names(item: Any) -> Needs:
    """The module-level names the source of ``item`` (a class or a helper function) uses,
    looked up where it was defined."""
    source = class_source(item)
    namespace = _namespace(item)
    needs = Needs()
    for name in sorted(_free_names(source)):
        if name == item.__name__ or name not in namespace:
            continue
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            if not import_allowed(value.__name__):
                raise _foreign(item, name, f"the module {value.__name__}")
            needs.imports.append(ImportedName(module=value.__name__, alias=name))
        elif isinstance(value, type) and issubclass(value, nn.Module) and \
                not value.__module__.startswith("torch"):
            needs.classes.append(value)
        elif getattr(value, "__module__", None) and import_allowed(value.__module__) and \
                getattr(sys.modules.get(value.__module__), getattr(value, "__name__", ""),
                        None) is value:
            needs.imports.append(ImportedName(module=value.__module__,
                                              attribute=value.__name__, alias=name))
        elif value is math.pi or value is math.e:
            needs.imports.append(ImportedName(module="math", attribute="pi"
                                              if value is math.pi else "e", alias=name))
        elif _helper(item, name, value):
            needs.helpers.append(value)
        else:
            raise _foreign(item, name, type(value).__name__)
    return needs


def _namespace(item: Any) -> dict[str, Any]:
    if isinstance(item, types.FunctionType):
        return item.__globals__
    module = sys.modules.get(item.__module__)
    return vars(module) if module is not None else {}


def _helper(user: Any, name: str, value: Any) -> bool:
    """Whether ``value`` is a function or class of the model's own files, defined at module
    level under the name the source uses, that generated code can hold verbatim."""
    if not isinstance(value, (types.FunctionType, type)) or value.__qualname__ != name:
        return False
    module = sys.modules.get(value.__module__)
    if module is None or getattr(module, name, None) is not value or \
            not _same_files(user, value):
        return False
    try:
        source = textwrap.dedent(inspect.getsource(value))
    except (OSError, TypeError):
        return False
    # The document holds one definition per kept block: a function only where it allows one.
    return opaque_source_problem(source, name) is None


def _same_files(user: Any, value: Any) -> bool:
    """Defined in the same package as the class that uses it, or in a file beside it."""
    if value.__module__.split(".")[0] == user.__module__.split(".")[0]:
        return True
    try:
        return os.path.dirname(inspect.getfile(value)) == \
            os.path.dirname(inspect.getfile(user))
    except (OSError, TypeError):
        return False


def _foreign(item: Any, name: str, what: str) -> ModelImportError:
    first = f"class {item.__name__} cannot be drawn, and keeping its source is not enough" \
        if isinstance(item, type) and issubclass(item, nn.Module) else \
        f"{kind_of(item)} {item.__name__}, which kept source uses, cannot be kept"
    return ModelImportError(f"{first}: it uses {name!r} ({what}) from its module, which "
                            f"generated code would not have")


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
