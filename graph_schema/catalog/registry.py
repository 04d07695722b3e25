"""The one registry of layer types, keyed by namespaced type name."""

from __future__ import annotations

from graph_schema.catalog.spec import LayerSpec

_SPECS: dict[str, LayerSpec] = {}
_LEGACY: dict[str, str] = {}


def register(*specs: LayerSpec) -> None:
    for spec in specs:
        if spec.type in _SPECS:
            raise ValueError(f"layer type {spec.type!r} registered twice")
        _SPECS[spec.type] = spec
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
