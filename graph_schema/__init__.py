"""The TorchCanvas document model, layer catalog, shape inference and validation.

Pure Python: this package never imports torch or Qt, so validating a project is instant.
"""

# blocks registers how a block:<name> type becomes a spec (graph_schema.specs).
from graph_schema import blocks  # noqa: F401
from graph_schema.diagnostics import Diagnostic
from graph_schema.document import Block, Edge, Network, Node, Position, Project, Training
from graph_schema.files import ProjectError, load_project, project_from_json, save_project
from graph_schema.inference import Inference
from graph_schema.validate import validate

__all__ = [
    "Block",
    "Diagnostic",
    "Edge",
    "Inference",
    "Network",
    "Node",
    "Position",
    "Project",
    "ProjectError",
    "Training",
    "load_project",
    "project_from_json",
    "save_project",
    "validate",
]
