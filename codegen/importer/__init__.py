"""Importing a live nn.Module as an editable diagram (see api.py for the whole path).

walk.py runs the model once, class by class, recording every graph node's shape; body.py,
ops.py and leaves.py turn each class's graph into a draft; groups.py and instances.py group
the drafts into blocks with arguments; documents.py writes the project.
"""

from codegen.importer.api import Imported, import_model, import_model_with_report
from codegen.importer.import_errors import ModelImportError
from codegen.importer.recording import recording

__all__ = ["Imported", "ModelImportError", "import_model", "import_model_with_report",
           "recording"]
