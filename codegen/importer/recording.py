"""Remembering the arguments every module's constructor was called with.

A class kept as its source is built again by generated code, so import needs the arguments
that built each instance. ``recording()`` watches constructor calls while a model is built
(``torchcanvas import`` builds the model inside it); without a recording, the importer reads
the arguments back from same-named attributes and the signature's defaults.
"""

from __future__ import annotations

import inspect
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

_RECORDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@contextmanager
def recording() -> Iterator[None]:
    """Record the constructor arguments of every nn.Module built inside the block."""
    previous = sys.getprofile()

    def watch(frame, event, _arg):
        if event != "call" or frame.f_code.co_name != "__init__":
            return
        code = frame.f_code
        if not code.co_argcount:
            return
        instance = frame.f_locals.get(code.co_varnames[0])
        if not isinstance(instance, nn.Module) or instance in _RECORDED:
            return  # the outermost __init__ of an instance is the one its user called
        _RECORDED[instance] = _arguments(frame)

    sys.setprofile(watch)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _arguments(frame) -> dict[str, Any] | None:
    info = inspect.getargvalues(frame)
    if info.varargs and info.locals.get(info.varargs):
        return None  # positional extras have no names to pass them by
    found = {name: info.locals[name] for name in info.args[1:]}
    code = frame.f_code
    for name in code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]:
        found[name] = info.locals[name]
    if info.keywords:
        found.update(info.locals.get(info.keywords) or {})
    return found


def recorded_arguments(module: nn.Module) -> dict[str, Any] | None:
    """What built ``module``, if it was built while recording."""
    try:
        return _RECORDED.get(module)
    except TypeError:
        return None
