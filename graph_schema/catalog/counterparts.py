"""The layer a functional op is the inline form of, and so the glyph family it draws with.

``F.relu`` is ``nn.ReLU`` written inline, ``F.max_pool2d`` is ``nn.MaxPool2d``: a diagram
imported from a forward() full of F.* calls should show activations and pools, not a column
of grey tensor ops. The counterpart is read from the catalog itself: a spec's ``mirrors``
when it names one, otherwise the nn layer whose class has the op's name (``log_softmax`` ->
``LogSoftmax``), so a new functional op finds its layer without a list to keep up.
"""

from __future__ import annotations

from graph_schema.catalog.registry import _SPECS, get_spec
from graph_schema.catalog.spec import LayerSpec

# Every node of every canvas asks, so the layers are indexed by name once, and again only
# when the registry has grown (it only ever grows: a type cannot be registered twice).
_BY_NAME: dict[str, str] = {}  # "maxpool2d" -> "nn.MaxPool2d"
_INDEXED = -1  # how many specs the index was built from


def _squashed(name: str) -> str:
    return name.replace("_", "").lower()


def _layer_named(name: str) -> str | None:
    global _INDEXED
    if len(_SPECS) != _INDEXED:
        _BY_NAME.clear()
        _BY_NAME.update({_squashed(s.torch_class): s.type for s in _SPECS.values()
                         if s.torch_class and s.type.startswith("nn.")})
        _INDEXED = len(_SPECS)
    return _BY_NAME.get(_squashed(name))


def layer_counterpart(spec: LayerSpec) -> LayerSpec | None:
    """The nn layer ``spec`` is the functional form of, or None (not functional, or no
    layer does the same)."""
    if spec.mirrors is not None:
        return get_spec(spec.mirrors)
    if not spec.type.startswith("op.") or spec.family != "op" or spec.call is None or \
            spec.call.kind != "function":
        return None
    layer = _layer_named(spec.type.split(".", 1)[1])
    return get_spec(layer) if layer is not None else None


def glyph_family(spec: LayerSpec) -> str:
    """The family a node of this type is drawn as: its counterpart layer's, else its own."""
    layer = layer_counterpart(spec)
    return layer.family if layer is not None else spec.family
