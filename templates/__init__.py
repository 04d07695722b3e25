"""Jinja2 templates for generated code (the module file, the optional training script).

Not code: a package only so the ``*.j2`` files ship inside the wheel as package data and can be
found next to this file at run time.
"""
