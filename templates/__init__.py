"""Jinja2 templates for generated code (shipped as package data)."""
