"""The rooms' socket fixtures (a real server with its WebSocket port), for the test of a
check-in's room. (tests/checkins/test_check_ins.py has its own ``world``: people
signed in over HTTP.)"""

from __future__ import annotations

from tests.realtime.conftest import (  # noqa: F401 - fixtures used by the tests here
    connect_as,
    rt_clock,
    rt_settings,
    server,
    world,
)
