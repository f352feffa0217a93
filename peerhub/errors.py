"""Domain errors that the transport turns into 4xx answers."""

from __future__ import annotations


class FieldError(ValueError):
    """A field's value is invalid. Becomes a 422 naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(LookupError):
    """No such thing, or not yours: the same answer for both (a 404)."""


class Forbidden(PermissionError):
    """Signed in but not allowed (a 403)."""


class BadInput(ValueError):
    """A value no database can store or compare as meant (a NUL character, an unpaired
    surrogate, an integer beyond 64 bits, a number that is not finite). Becomes a 400.

    The input guard (peerhub/security/inputguard.py) refuses such values in the path,
    query and form before any route runs; this is raised by the database layer for
    whatever else carries one there (peerhub/inputs.py, ``check_parameter``).
    """
