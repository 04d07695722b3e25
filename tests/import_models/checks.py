"""Shape checks that follow containers: a node's module may live at ``layers.0`` or ``0``.

``tests.codegen_support.check_model`` finds a node's module by its name; generated code with
module lists and sequentials keeps modules elsewhere, and ``codegen.generate.module_paths``
says where.
"""

from __future__ import annotations

import torch
from torch import nn

from codegen.generate import module_paths
from graph_schema.document import Block, Network, Project
from graph_schema.inference import Inference
from graph_schema.summary import summarize
from tests.codegen_support import ShapeRecorder, as_ints, concrete_project, make_inputs


class PathRecorder(ShapeRecorder):
    """Forward hooks on every node's module, found where code generation put it."""

    def __init__(self, paths: dict[str, dict[str, str]]):
        super().__init__()
        self.paths = paths

    def module_path(self, module: nn.Module, inference: Inference, node) -> str | None:
        graph = inference.network
        key = f"block:{graph.name}" if isinstance(graph, Block) else graph.name
        return self.paths.get(key, {}).get(node.id)


def check_generated(project: Project, network: Network, model_class, kwargs=None,
                    train: bool = False):
    """Build the class, run it on the declared inputs, compare every module's output shape
    and the parameter count with inference; returns (model, outputs as a list)."""
    concrete = concrete_project(project)
    concrete_net = concrete.network(network.name)
    inference = Inference(concrete_net, concrete)
    model = model_class(**(kwargs or {}))
    if not kwargs:
        assert sum(p.numel() for p in model.parameters()) == \
            summarize(project, network).total_params
    recorder = PathRecorder(module_paths(concrete, network.name))
    recorder.attach(concrete, model, inference)
    inputs = make_inputs(concrete, concrete_net, inference)
    model.train(train)
    try:
        with torch.no_grad():
            result = model(*inputs)
    finally:
        recorder.remove()
    recorder.check()
    results = [result] if len(concrete_net.outputs()) == 1 else list(result)
    for node, tensor in zip(concrete_net.outputs(), results):
        assert tuple(tensor.shape) == as_ints(inference.input_shapes_of(node.id)[0])
    return model, results
