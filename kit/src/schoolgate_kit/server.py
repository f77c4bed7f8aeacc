"""How a process serves HTTP, in the cluster and the embedded mode alike: uvicorn, with every
connection on a deadline and the client's address believed only from trusted proxies.

uvicorn times out idle keep-alive connections but not a request's head: a connection that
sent half a request line, or nothing at all, was kept for ever. Three hundred of them under
a 256-file limit left no descriptor for anyone else, and every /healthz failed. Here a
connection must send its request line and headers within ``header_timeout_seconds`` of its
first byte (or of connecting); the body's own timeout is the guard's
(``schoolgate_kit.guard``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from schoolgate_kit.settings import Settings


class HeadDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request head is late."""

    head_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_deadline = self.loop.call_later(self.head_timeout, self._expire)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _expire(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def head_deadline_protocol(seconds: float) -> type[HeadDeadlineProtocol]:
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": seconds})


def server_config(app: Any, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    proxies = settings.trusted_proxy_list
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        http=head_deadline_protocol(settings.header_timeout_seconds),
        timeout_keep_alive=settings.keep_alive_seconds,
        # without trusted proxies X-Forwarded-For is nobody's word: uvicorn would otherwise
        # believe it from localhost (its default), and a local proxy-less client could pose
        # as anyone to the per-address limits
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
    )


def serve(app: Any, settings: Settings, *, host: str, port: int) -> None:
    uvicorn.Server(server_config(app, settings, host=host, port=port)).run()
