"""What the parameter kinds have in common, defined once in graph_schema/catalog/params.py and
read by the inspector (which editor), codegen (``kernel_size=3`` for ``(3, 3)``) and the
importer (``stride (2, 2)`` read as 2)."""

from __future__ import annotations

from graph_schema.catalog import all_specs, get_spec
from graph_schema.catalog.params import DTYPES, KINDS, ONE_OR_EACH, PICKED, ParamSpec


def test_every_kind_a_catalog_layer_uses_is_a_known_kind():
    used = {param.kind for spec in all_specs() for param in spec.params}
    assert used <= set(KINDS) and ONE_OR_EACH <= set(KINDS) and PICKED <= set(KINDS)


def test_one_value_stands_for_all_of_a_kernel_size_but_not_of_a_shape():
    conv = get_spec("nn.Conv2d").param_map
    assert conv["kernel_size"].one_or_each and conv["stride"].one_or_each
    reshape = get_spec("op.reshape").param_map["shape"]
    assert reshape.always_a_list and not reshape.one_or_each


def test_the_values_to_pick_from():
    assert get_spec("nn.Upsample").param_map["mode"].options[:2] == ["nearest", "linear"]
    assert ParamSpec("dtype", "dtype").options == list(DTYPES)
    assert ParamSpec("flag", "bool", optional=True).options == [None, True, False]
    assert ParamSpec("size", "int").options is None
