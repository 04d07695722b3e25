"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their single-step cells.

Sequence layers take (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in), and
return every output torch returns: (output, h_n) and for LSTM (output, h_n, c_n). The initial
states are optional inputs; when connected their shapes are checked like torch checks them.
"""

from __future__ import annotations

from graph_schema.catalog.helpers import (
    bool_param,
    channels_param,
    choice_param,
    concrete,
    expect_dim,
    expect_rank,
    first,
    float_param,
    int_param,
    set_param_fix,
)
from graph_schema.catalog.params import ParamSpec
from graph_schema.catalog.registry import register
from graph_schema.catalog.sequence import (
    expect_shape,
    join_sequence,
    port_shape,
    sequence_layout,
    split_sequence,
)
from graph_schema.catalog.spec import LayerSpec, PortSpec, ShapeError
from graph_schema.dims import product

# Weight matrices per layer and direction: one per gate (LSTM: i, f, g, o; GRU: r, z, n).
_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3, "RNNCell": 1, "LSTMCell": 4, "GRUCell": 3}


def _infer_input_size(_p, inputs):
    shape = first(inputs)
    if not shape:
        return {}
    return {"input_size": concrete(shape[-1], "input_size", shape)}


def _check_input(p, shape, ranks, hint):
    expect_rank(shape, ranks, layout_hint=hint)
    expect_dim(shape, -1, p["input_size"], "input_size",
               fix=set_param_fix("input_size", shape[-1]))


def _state_pair(kind, inputs, names):
    """LSTM's h and c travel together as one (h, c) tuple: torch takes both or neither."""
    h, c = port_shape(inputs, 1), port_shape(inputs, 2)
    if kind.startswith("LSTM") and (h is None) != (c is None):
        given, missing = (names[0], names[1]) if c is None else (names[1], names[0])
        raise ShapeError(f"{given} is connected but {missing} is not; {kind} takes its "
                         f"initial states together, connect both or neither",
                         port=2 if c is None else 1, code="unconnected-input")
    return h, c


# -- whole-sequence layers -------------------------------------------------------------------
def _sequence_rule(kind):
    def rule(p, inputs):
        shape = first(inputs)
        _check_input(p, shape, (2, 3), sequence_layout(p["batch_first"], "H_in"))
        hidden, proj = p["hidden_size"], p.get("proj_size", 0)
        if proj >= hidden:
            raise ShapeError(f"proj_size={proj} must be smaller than hidden_size={hidden}",
                             port=None, code="bad-param")
        length, batch, _ = split_sequence(shape, p["batch_first"])
        directions = 2 if p["bidirectional"] else 1
        h_out = proj or hidden
        lead = (directions * p["num_layers"],) if batch is None else \
            (directions * p["num_layers"], batch)
        # States are (layers * directions, N, size) whatever batch_first says.
        h_n, c_n = (*lead, h_out), (*lead, hidden)
        layout = "(num_layers * num_directions, N, size)" if batch is not None \
            else "(num_layers * num_directions, size) for an unbatched input"
        h_0, c_0 = _state_pair(kind, inputs, ("h_0", "c_0"))
        if h_0 is not None:
            expect_shape(h_0, h_n, "h_0", 1, layout)
        if c_0 is not None:
            expect_shape(c_0, c_n, "c_0", 2, layout)
        output = join_sequence(length, batch, directions * h_out, p["batch_first"])
        return [output, h_n, c_n] if kind == "LSTM" else [output, h_n]
    return rule


def _sequence_weights(kind, p, with_bias):
    """Parameters of all layers and directions; closed form so huge num_layers stay cheap."""
    hidden, proj = p["hidden_size"], p.get("proj_size", 0)
    gates = _GATES[kind] * hidden
    real = proj or hidden  # the recurrent state size: LSTM projects h to proj_size
    directions = 2 if p["bidirectional"] else 1

    def per_direction(layer_in):
        count = gates * (layer_in + real) + (proj * hidden if proj else 0)
        return count + (2 * gates if with_bias else 0)

    first_layer = per_direction(p["input_size"])
    later = per_direction(directions * real)  # deeper layers read both directions' outputs
    return directions * (first_layer + (p["num_layers"] - 1) * later)


def _sequence_macs(kind):
    def macs(p, inputs, _outputs):
        steps = product(first(inputs)[:-1])  # L * N time steps (L when unbatched)
        return steps * _sequence_weights(kind, p, with_bias=False)
    return macs


def _sequence_params(kind):
    params = [
        channels_param("input_size", inferable=True),
        channels_param("hidden_size"),
        int_param("num_layers", 1),
    ]
    if kind == "RNN":
        params.append(choice_param("nonlinearity", "tanh", ("tanh", "relu")))
    params += [
        bool_param("bias", True),
        bool_param("batch_first", False, doc="inputs and outputs are (N, L, H) not (L, N, H)"),
        float_param("dropout", 0.0, minimum=0.0, maximum=1.0,
                    doc="dropout between stacked layers (needs num_layers > 1)"),
        bool_param("bidirectional", False),
    ]
    if kind == "LSTM":
        params.append(ParamSpec("proj_size", "int", default=0, minimum=0,
                                doc="project h to this size (0: no projection)"))
    return tuple(params)


def _sequence(kind, description):
    lstm = kind == "LSTM"
    states = (PortSpec("h_0", optional=True),) + ((PortSpec("c_0", optional=True),) if lstm
                                                  else ())
    return LayerSpec(
        type=f"nn.{kind}",
        family="recurrent",
        rule=_sequence_rule(kind),
        params=_sequence_params(kind),
        inputs=(PortSpec("input"), *states),
        outputs=("output", "h_n", "c_n") if lstm else ("output", "h_n"),
        infer=_infer_input_size,
        torch_class=kind,
        forward_inputs="hx_tuple" if lstm else "args",
        returns="nested_state" if lstm else "auto",
        count_params=lambda p: _sequence_weights(kind, p, with_bias=p["bias"]),
        macs=_sequence_macs(kind),
        summary_params=("hidden_size", "num_layers", "bidirectional"),
        description=description,
    )


# -- single-step cells -----------------------------------------------------------------------
def _cell_rule(kind):
    def rule(p, inputs):
        shape = first(inputs)
        _check_input(p, shape, (1, 2), "(N, input_size) or unbatched (input_size,)")
        state = (*shape[:-1], p["hidden_size"])
        layout = "(N, hidden_size)" if len(shape) == 2 else "(hidden_size,) for an unbatched input"
        h, c = _state_pair(kind, inputs, ("h", "c"))
        if h is not None:
            expect_shape(h, state, "h", 1, layout)
        if c is not None:
            expect_shape(c, state, "c", 2, layout)
        return [state, state] if kind == "LSTMCell" else [state]
    return rule


def _cell_weights(kind, p, with_bias):
    gates = _GATES[kind] * p["hidden_size"]
    return gates * (p["input_size"] + p["hidden_size"]) + (2 * gates if with_bias else 0)


def _cell(kind, description):
    lstm = kind == "LSTMCell"
    params = [channels_param("input_size", inferable=True), channels_param("hidden_size"),
              bool_param("bias", True)]
    if kind == "RNNCell":
        params.append(choice_param("nonlinearity", "tanh", ("tanh", "relu")))
    states = (PortSpec("h", optional=True),) + ((PortSpec("c", optional=True),) if lstm else ())
    return LayerSpec(
        type=f"nn.{kind}",
        family="recurrent",
        rule=_cell_rule(kind),
        params=tuple(params),
        inputs=(PortSpec("input"), *states),
        outputs=("h_1", "c_1") if lstm else ("h_1",),
        infer=_infer_input_size,
        torch_class=kind,
        forward_inputs="hx_tuple" if lstm else "args",
        count_params=lambda p: _cell_weights(kind, p, with_bias=p["bias"]),
        macs=lambda p, inputs, _o: product(first(inputs)[:-1])
        * _cell_weights(kind, p, with_bias=False),
        summary_params=("hidden_size",),
        description=description,
    )


register(
    _sequence("RNN", "Elman recurrent network (tanh or relu) over a whole sequence."),
    _sequence("LSTM", "Long short-term memory over a whole sequence; returns output, h_n, c_n."),
    _sequence("GRU", "Gated recurrent unit over a whole sequence; returns output and h_n."),
    _cell("RNNCell", "One time step of an Elman RNN: (input, h) -> h_1."),
    _cell("LSTMCell", "One time step of an LSTM: (input, (h, c)) -> (h_1, c_1)."),
    _cell("GRUCell", "One time step of a GRU: (input, h) -> h_1."),
)
