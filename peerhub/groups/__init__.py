"""Organisations, their groups, sessions and joining.

- :mod:`~peerhub.groups.validation` turns forms into checked inputs (FieldError).
- :mod:`~peerhub.groups.actions` checks permission, writes; the caller commits.
- :mod:`~peerhub.groups.queries` reads what the pages show.
- :mod:`~peerhub.groups.routes` and :mod:`~peerhub.groups.organise` are the HTTP side.
"""
