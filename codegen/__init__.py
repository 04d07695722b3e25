"""Graph to PyTorch source (generate), and PyTorch module to graph (import).

May import torch where a feature needs it; never imports Qt.
"""

from codegen.generate import GenerationError, generate_source

__all__ = ["GenerationError", "generate_source"]
