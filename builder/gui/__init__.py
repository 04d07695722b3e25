"""The Qt desktop app: canvas, palette, inspector, diagnostics.

The only package that imports PySide6.
"""
