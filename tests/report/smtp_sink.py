"""A loopback SMTP server for the tests that send a report: aiosmtpd on an ephemeral port that keeps
every message it receives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller


class EphemeralController(Controller):
    """aiosmtpd's controller on port 0: ``port`` is the one the system gave."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Sink:
    """Keeps every envelope it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201 - aiosmtpd's hook
        self.envelopes.append(envelope)
        return "250 OK"


@contextmanager
def running_sink() -> Iterator[tuple[int, Sink]]:
    """A :class:`Sink` served on a loopback port while the block runs: ``(port, sink)``."""
    sink = Sink()
    controller = EphemeralController(sink, hostname="127.0.0.1", port=0, ready_timeout=5.0)
    controller.start()
    try:
        yield controller.port, sink
    finally:
        controller.stop()
