"""The demo takes its documented ports when free and free ones when they are taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from crmsync.demo import listening_socket
from crmsync.demo_crms import DemoCRMs


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield int(sock.getsockname()[1])


def test_the_api_moves_to_a_free_port_when_its_own_is_taken(taken: int) -> None:
    sock, asked = listening_socket("127.0.0.1", taken)
    with sock:
        assert not asked and sock.getsockname()[1] != taken


def test_the_api_keeps_its_port_when_free() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free = int(probe.getsockname()[1])
    sock, asked = listening_socket("127.0.0.1", free)
    with sock:
        assert asked and sock.getsockname()[1] == free


def test_the_sandboxes_move_when_a_port_of_their_range_is_taken(taken: int) -> None:
    # the range starts below the taken port: the first sandbox binds, the second cannot
    crms = DemoCRMs(once=False, port=taken - 1)
    try:
        assert crms.moved
        ports = {int(url.rsplit(":", 1)[1]) for url in crms.urls.values()}
        assert len(ports) == len(crms.sandboxes) and taken not in ports
        for name, box in crms.sandboxes.items():  # every sandbox answers where it says
            assert box.base_url == crms.urls[name]
    finally:
        crms.stop()
