"""Care for the moderators (issue 14, part 5; hazard H27 in docs/safety/hazard-log.md).

- :mod:`peerhub.care.models`: check-ins after a crisis alert, training records, the
  training an organisation requires, and when a moderator is unavailable.
- :mod:`peerhub.care.actions`: the changes (check, write; the caller commits), and the
  seams other parts call: :func:`~peerhub.care.actions.after_alert` (closing an alert),
  :func:`~peerhub.care.training.missing_training` (appointing a moderator) and
  :func:`~peerhub.care.queries.unavailable` (rotas and escalations).
- :mod:`peerhub.care.routes`: ``/care`` (the moderator's own page) and
  ``/organise/organisations/{id}/care`` (the organisers').

This package's ``__init__`` imports nothing, so peerhub/groups may import
:mod:`peerhub.care.training` without pulling in the routes (no import cycle).
"""
