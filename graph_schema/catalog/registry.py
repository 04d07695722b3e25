"""The one registry of layer types, keyed by namespaced type name."""

from __future__ import annotations

import sys
from pathlib import Path

from graph_schema.catalog.spec import LayerSpec

_SPECS: dict[str, LayerSpec] = {}
_LEGACY: dict[str, str] = {}
_DEFINED_IN: dict[str, str] = {}  # type -> the module that registered it


def register(*specs: LayerSpec) -> None:
    # Each catalog module registers its own types, so the caller is where they are defined.
    module = sys._getframe(1).f_globals.get("__name__", "")
    for spec in specs:
        if spec.type in _SPECS:
            raise ValueError(f"layer type {spec.type!r} registered twice")
        _SPECS[spec.type] = spec
        _DEFINED_IN[spec.type] = module
        for old in spec.legacy_types:
            _LEGACY[old] = spec.type


def get_spec(type_name: str) -> LayerSpec | None:
    """The spec for a type, following renames; None for types the catalog does not know."""
    spec = _SPECS.get(type_name)
    if spec is None and type_name in _LEGACY:
        spec = _SPECS[_LEGACY[type_name]]
    return spec


def current_type(type_name: str) -> str:
    return _LEGACY.get(type_name, type_name)


def all_specs() -> list[LayerSpec]:
    return sorted(_SPECS.values(), key=lambda s: (s.family, s.type))


def defined_in(type_name: str) -> str | None:
    """The source file that defines a type, relative to the project root
    (``graph_schema/catalog/conv.py``); None for types the catalog does not know."""
    module = _DEFINED_IN.get(current_type(type_name))
    if module is None:
        return None
    return Path(*module.split(".")).with_suffix(".py").as_posix()
