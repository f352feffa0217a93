"""Logging set-up: PeerHub's own lines at the chosen level, never secrets or bodies.

Some libraries log SQL statements with their bound parameters, or request URLs, at
DEBUG or INFO; those parameters are people's e-mail addresses, password hashes and
messages. Their loggers are held at WARNING whatever level PeerHub runs at.
"""

from __future__ import annotations

import logging

# Loggers that would print bound parameters, bodies or URLs with codes in them.
QUIET = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "httpx",
    "httpcore",
    "websockets",
    "uvicorn.access",
    "multipart",
    "python_multipart",
)


# Loggers that only narrate routine work ("Running upgrade 0008 -> 0009"); they
# speak again when PeerHub runs at DEBUG.
CHATTY = ("alembic",)


def quiet_third_party(level: str = "INFO") -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in CHATTY:
        logging.getLogger(name).setLevel(
            logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
        )


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_third_party(level)
