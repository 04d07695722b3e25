"""Graph to PyTorch source (generate), and PyTorch module to graph (import).

May import torch where a feature needs it; never imports Qt.
"""

from codegen.generate import GenerationError, generate_source
from codegen.importer import ModelImportError, import_model

__all__ = ["GenerationError", "ModelImportError", "generate_source", "import_model"]
