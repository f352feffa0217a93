"""Rotas: who moderates each session of a group (issue 14, part 1; docs/rotas.md)."""
