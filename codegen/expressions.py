"""The Python expression for one node: its constructor in __init__, its call in forward."""

from __future__ import annotations

from dataclasses import dataclass

from codegen.literals import py_literal
from codegen.pyformat import Call
from graph_schema.catalog import LayerSpec, ParamSpec
from graph_schema.catalog.ops_like import SizeOrName
from graph_schema.dims import Shape, Sym


@dataclass(frozen=True)
class Bound:
    """A parameter bound to a constructor argument: written as the argument's name."""

    name: str

    @property
    def text(self) -> str:
        return self.name


@dataclass(frozen=True)
class Stored(Bound):
    """An argument that ``forward`` reads: ``__init__`` keeps it, ``self.pad = pad``, and
    forward writes ``self.pad`` (the argument itself is gone by then)."""

    attribute: str  # self.<attribute>: the argument's own name unless a module has it

    @property
    def text(self) -> str:
        return f"self.{self.attribute}"


def render_value(param: ParamSpec, value) -> str:
    if isinstance(value, Bound):
        return value.text
    if param.kind == "dtype" and isinstance(value, str):
        return f"torch.{value}"
    if param.one_or_each and isinstance(value, tuple) and value and \
            all(v == value[0] for v in value):
        return py_literal(value[0])
    if param.kind in ("int_list", "shape") and isinstance(value, (tuple, list)):
        return py_literal(tuple(value))
    return py_literal(value)


def _differs(param: ParamSpec, value, default_value) -> bool:
    if isinstance(value, Bound):
        return True
    return value != default_value


def _is_positional(param: ParamSpec) -> bool:
    return param.required or param.inferable


def constructor_args(spec: LayerSpec, params: dict, skip: tuple[str, ...] = ()) -> list[str]:
    """Params up to the last required/inferable one positionally (torch's order), the rest by
    keyword and only where they differ from torch's default.

    A default before a required param is written too: the catalog's default may be its own
    (Unflatten's dim=1), while torch needs the argument (nn.Unflatten(dim, unflattened_size)).
    """
    used = [p for p in spec.params
            if p.constructor and p.name not in spec.forward_params and p.name not in skip]
    last = max((i for i, p in enumerate(used) if _is_positional(p)), default=-1)
    defaults = spec.defaults
    args: list[str] = []
    for index, param in enumerate(used):
        value = params.get(param.name)
        if index <= last:
            args.append(render_value(param, value))
        elif _differs(param, value, defaults.get(param.name)):
            args.append(f"{param.name}={render_value(param, value)}")
    return args


def module_constructor(spec: LayerSpec, params: dict) -> Call:
    if spec.construct == "transformer_stack":
        layer = Call(f"nn.{spec.stack_layer}",
                     tuple(constructor_args(spec, params, skip=("num_layers",))))
        num_layers = render_value(spec.param_map["num_layers"], params["num_layers"])
        return Call(f"nn.{spec.torch_class}", (layer, f"num_layers={num_layers}"))
    return Call(f"nn.{spec.torch_class}", tuple(constructor_args(spec, params)))


def module_call(attribute: str, spec: LayerSpec, params: dict, inputs: list[str | None]):
    args = _forward_inputs(spec, inputs)
    defaults = spec.defaults
    for name in spec.forward_params:
        param = spec.param_map[name]
        if _differs(param, params.get(name), defaults.get(name)):
            args.append(f"{name}={render_value(param, params[name])}")
    return Call(f"self.{attribute}", tuple(args))


def _forward_inputs(spec: LayerSpec, inputs: list[str | None]) -> list[str]:
    if spec.forward_inputs == "self_attention":
        query = inputs[0]
        key = inputs[1] if len(inputs) > 1 and inputs[1] else query
        value = inputs[2] if len(inputs) > 2 and inputs[2] else key
        return [query, key, value]
    present = [name for name in inputs if name is not None]
    if spec.forward_inputs == "hx_tuple" and len(present) > 2:
        return [present[0], f"({', '.join(present[1:])})"]
    return present


def op_expression(spec: LayerSpec, params: dict, inputs: list[str],
                  input_shapes: list[Shape | None]):
    call = spec.call
    if call.kind == "operator":
        return f" {call.name} ".join(inputs)
    if call.kind == "getitem":
        # A Call in brackets, so a long line splits inside them as ruff splits it.
        # One index item an argument: split, they go one a line with a trailing comma.
        return Call(inputs[0], tuple(params["index"]), opener="[", closer="]")
    if call.kind == "index":
        return Call(inputs[0], tuple(inputs[1:]), opener="[", closer="]")
    param_map = spec.param_map
    passed, by_name = _passed_inputs(spec, inputs)
    args: list = [_op_value(param_map[name], params[name], inputs, input_shapes)
                  for name in call.leading]
    if call.inputs == "list":
        args.append(Call("", tuple(passed), "[", "]", hug=False))
    elif call.inputs != "like":
        args += passed[:1] if call.inputs == "first" else passed
    if call.inputs == "first":
        # The other inputs are only where named sizes are read (x.expand(other.size(0), -1)):
        # read them there, even when the first input has a size of the same name.
        inputs, input_shapes = inputs[1:], input_shapes[1:]
    for name in call.positional:
        args.append(_op_value(param_map[name], params[name], inputs, input_shapes))
    if isinstance(params.get(call.star), Bound):
        args.append(f"*{params[call.star].text}")
    elif call.star:
        args += [_size_item(item, inputs, input_shapes) for item in params[call.star]]
    args += [f"{port}={variable}" for port, variable in by_name]
    defaults = spec.defaults
    written = [name for name in call.keyword if param_map[name].required
               or _differs(param_map[name], params.get(name), defaults.get(name))]
    # A keyword is written with the ones before it: torch has no x.sum(keepdim=True), only
    # x.sum(dim=None, keepdim=True).
    last = max((call.keyword.index(name) for name in written), default=-1)
    for name in call.keyword[:last + 1]:
        text = _op_value(param_map[name], params[name], inputs, input_shapes)
        switch = param_map[name].extra.get("training_only")
        if switch and params.get(switch):  # the value of training; none in evaluation
            text = f"{text} if self.training else 0.0"
        args.append(f"{name}={text}")
    if call.inputs == "like":
        # A tensor made in forward() must live where the model's tensors are.
        args.append(f"device={inputs[0]}.device")
    if call.kind == "method":
        target, *rest = args
        return Call(f"{target}.{call.name}", tuple(rest))
    return Call(call.name, tuple(args))


def _passed_inputs(spec: LayerSpec, inputs: list[str | None]):
    """The inputs written positionally, and (port, variable) for those written by name
    (``attn_mask=mask``); an unconnected optional port written by name is left out."""
    if not spec.call.named_inputs:
        return list(inputs), []
    passed, by_name = [], []
    for port, variable in enumerate(inputs):
        name = spec.port_spec(port).name
        if variable is not None:
            if name in spec.call.named_inputs:
                by_name.append((name, variable))
            else:
                passed.append(variable)
    return passed, by_name


def _op_value(param: ParamSpec, value, inputs, input_shapes) -> str:
    if isinstance(param, SizeOrName) and isinstance(value, str):
        return _size_item(value, inputs, input_shapes)
    if param.kind == "shape" and isinstance(value, (tuple, list)):
        items = [_size_item(item, inputs, input_shapes) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return render_value(param, value)


def _size_item(item, inputs, input_shapes) -> str:
    """A reshape size: a number, or a named dimension read at run time from the first input
    that has it."""
    if isinstance(item, str):
        symbol = Sym.named(item)
        for name, shape in zip(inputs, input_shapes):
            for axis, dim in enumerate(shape or ()):
                if dim == symbol:
                    return f"{name}.size({axis})"
        raise ValueError(f"dimension {item!r} is not in the input shape")
    return py_literal(item)
