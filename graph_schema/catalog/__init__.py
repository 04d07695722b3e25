"""The layer catalog: every layer type TorchCanvas can draw, infer and generate.

Importing this package registers all built-in types. Each family lives in its own module.
"""

from graph_schema.catalog import (  # noqa: F401  (imported for their registrations)
    activation,
    attention,
    attrs,
    conv,
    dropout,
    functional,
    io,
    linear,
    norm,
    ops,
    padding,
    pool,
    recurrent,
    resample,
)
from graph_schema.catalog.params import ParamError, ParamSpec
from graph_schema.catalog.registry import all_specs, current_type, get_spec, register
from graph_schema.catalog.spec import (
    FAMILIES,
    TAGS,
    Fix,
    LayerSpec,
    OpCall,
    PortSpec,
    ShapeError,
)

__all__ = [
    "FAMILIES",
    "TAGS",
    "Fix",
    "LayerSpec",
    "OpCall",
    "ParamError",
    "ParamSpec",
    "PortSpec",
    "ShapeError",
    "all_specs",
    "current_type",
    "get_spec",
    "register",
]
