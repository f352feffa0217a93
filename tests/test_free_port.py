"""The tests' own ports (tests/conftest.py, ``port_block`` and ``free_port``).

pytest-xdist runs the suite in several processes at once, each starting servers on
ports of its own choosing; a browser must be able to reach every one of them. A block
that reached port 10080 once left a room page unable to connect: Chromium refuses the
Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#port-blocking), whose
highest is 10080.
"""

from __future__ import annotations

import socket

import pytest

from tests.conftest import free_port, port_block

# The Fetch standard's highest blocked port.
HIGHEST_BAD_PORT = 10080


@pytest.mark.parametrize("low", [32768, 49152])
def test_each_workers_block_is_its_own_above_the_bad_ports_and_below_the_kernels(
    low: int,
) -> None:
    blocks = [port_block(f"gw{n}", low) for n in range(8)]
    for block in blocks:
        assert min(block) > HIGHEST_BAD_PORT
        assert max(block) < low
    ports = [port for block in blocks for port in block]
    assert len(ports) == len(set(ports)), "two workers share a port"


def test_a_run_without_xdist_takes_the_first_block() -> None:
    assert port_block("master", 32768) == port_block("gw0", 32768)


def test_free_port_gives_distinct_ports_that_can_be_bound() -> None:
    ports = [free_port() for _ in range(5)]
    assert len(set(ports)) == 5
    for port in ports:
        assert port > HIGHEST_BAD_PORT
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))
