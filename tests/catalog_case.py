"""Infer one layer on concrete input shapes with the real engine, and compare with torch."""

from __future__ import annotations

from graph_schema.catalog import get_spec
from graph_schema.document import Edge, Network, Node, Project
from graph_schema.inference import Inference, NodeState
from tests.torch_eval import run_spec


def infer_single(type_name: str, params: dict, input_shapes: list) -> NodeState:
    nodes = [Node(id=f"in{i}", type="io.Input", name=f"x{i}", params={"shape": list(shape)})
             for i, shape in enumerate(input_shapes)]
    nodes.append(Node(id="layer", type=type_name, name="layer", params=params))
    edges = [Edge(source=f"in{i}", target="layer", target_port=i)
             for i in range(len(input_shapes))]
    network = Network(name="case", nodes=nodes, edges=edges)
    project = Project(networks=[network])
    return Inference(network, project).states["layer"]


def check_against_torch(type_name: str, params: dict, input_shapes: list, dtypes=None):
    """Assert the catalog's inferred outputs equal torch's on meta tensors; return them."""
    state = infer_single(type_name, params, input_shapes)
    errors = [d.message for d in state.diagnostics if d.is_error]
    assert not errors, f"{type_name} {params} on {input_shapes}: {errors}"
    expected = run_spec(get_spec(type_name), state.params, input_shapes, dtypes)
    assert state.outputs == expected, (
        f"{type_name} {params} on {input_shapes}: catalog says {state.outputs}, "
        f"torch says {expected}"
    )
    return state.outputs


def single_error(type_name: str, params: dict, input_shapes: list):
    """The one error inference reports for this layer on these inputs (no output shapes)."""
    state = infer_single(type_name, params, input_shapes)
    errors = [d for d in state.diagnostics if d.is_error]
    assert len(errors) == 1, [d.message for d in state.diagnostics]
    assert state.outputs is None
    return errors[0]
