"""Rendering templates from the ``templates`` package (shipped inside the wheel)."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("templates", ""),
        autoescape=False,  # Python source, not HTML: values arrive already as safe literals
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(template: str, **values) -> str:
    return _environment().get_template(template).render(**values)
