"""Graph to PyTorch source (generate), and PyTorch module to graph (import).

May import torch where a feature needs it; never imports Qt. Generating code needs no torch,
so the import half (which does) is loaded only when it is first asked for: `validate`,
`generate` and `trust` start without paying for torch.
"""

from codegen.generate import GenerationError, generate_source

_IMPORT_HALF = ("ModelImportError", "import_model")


def __getattr__(name: str):
    if name in _IMPORT_HALF:
        from codegen import importer

        return getattr(importer, name)
    raise AttributeError(f"module 'codegen' has no attribute {name!r}")


__all__ = ["GenerationError", "ModelImportError", "generate_source", "import_model"]
