"""One way to find a node's spec: the catalog for built-in types, the project for blocks.

A node type is either a catalog type (``nn.Conv2d``) or a placement of one of the project's
blocks (``block:SE``). Block specs are built by ``graph_schema.blocks``, which registers its
builder here when it is imported (the package imports it), so this module needs neither
blocks nor inference and no import circle hides behind imports inside functions.
"""

from __future__ import annotations

from collections.abc import Callable

from graph_schema.catalog import get_spec as catalog_spec
from graph_schema.catalog.spec import LayerSpec
from graph_schema.document import Project, block_name_of

BlockSpecBuilder = Callable[[Project | None, str], LayerSpec | None]
_block_spec: list[BlockSpecBuilder] = []


def register_block_specs(builder: BlockSpecBuilder) -> None:
    """Called once, by ``graph_schema.blocks``: how a ``block:<name>`` type becomes a spec."""
    _block_spec[:] = [builder]


def spec_for(type_name: str, project: Project | None) -> LayerSpec | None:
    """The spec of a node type, or None when the type is unknown (or names a block the
    project does not have)."""
    block_name = block_name_of(type_name)
    if block_name is None:
        return catalog_spec(type_name)
    return _block_spec[0](project, block_name) if _block_spec else None
