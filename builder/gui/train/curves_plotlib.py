"""pyqtgraph, bound to PySide6: import it from here, never directly.

pyqtgraph picks its Qt binding when first imported: PYQTGRAPH_QT_LIB if set, else the first of
PyQt6, PySide6, PyQt5, PySide2 already imported, else the first importable. A user with PyQt
installed (or PYQTGRAPH_QT_LIB=PyQt5 in the environment) would otherwise get plots built on
another binding than the app's widgets, which fails at the first addWidget. So PySide6 is
imported first and named in the variable for the length of the import.
"""

from __future__ import annotations

import os
import sys

import PySide6.QtCore  # noqa: F401  (imported before pyqtgraph, so it is the binding found)

if "pyqtgraph" not in sys.modules:
    _before = os.environ.get("PYQTGRAPH_QT_LIB")
    os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
    try:
        import pyqtgraph  # noqa: F401
    finally:
        if _before is None:
            del os.environ["PYQTGRAPH_QT_LIB"]
        else:
            os.environ["PYQTGRAPH_QT_LIB"] = _before

import pyqtgraph as pg  # noqa: E402

if pg.Qt.QT_LIB != "PySide6":
    raise ImportError(
        f"pyqtgraph was imported with {pg.Qt.QT_LIB} before the app could bind it "
        "to PySide6; the Train panel's plots need PySide6"
    )

__all__ = ["pg"]
