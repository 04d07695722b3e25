"""Planted bugs and the runner that checks the suite catches them (`make mutate`)."""
