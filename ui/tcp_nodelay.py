"""TCP_NODELAY on the server's connections: an answer's small websocket frames leave at once.

Streamlit 1.67's server (Starlette on uvicorn) listens on a socket made without a protocol
number, and asyncio sets TCP_NODELAY only on sockets whose `proto` is IPPROTO_TCP, so every
connection kept Nagle's algorithm. A rerun's answer is several small frames: when the browser's
side delayed its ACK (as it does after answering a keep-alive ping, every 30 s), the frames
after the first waited ~40 ms for it. Measured with benchmarks/protocol_load.py's client: 3 of
147 slider answers took 45-80 ms instead of 3-12; none did with this (benchmarks/README.md).

`install()` widens asyncio's check to any TCP socket for the connections accepted from then on,
and sets the option on those already open: the first tab's websocket is accepted before the
script, and so this module, first runs. ui/gc_policy.py calls it before gc.freeze(), which would
hide the objects alive then from gc.get_objects().
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket

_LOGGER = logging.getLogger(__name__)
# asyncio's own check, as this module found it (install() replaces it): tests start from it.
ASYNCIO_SET_NODELAY = getattr(asyncio.base_events, "_set_nodelay", None)


def set_nodelay(sock: socket.socket) -> None:
    """TCP_NODELAY on a TCP stream socket, whatever protocol number it was made with."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _open_transports() -> list[asyncio.Transport]:
    # type(), not isinstance(): that would read some objects' __class__, and a few warn on it
    return [obj for obj in gc.get_objects()
            if issubclass(type(obj), asyncio.Transport) and not obj.is_closing()]


def install() -> None:
    """Once per process (later calls change nothing)."""
    current = getattr(asyncio.base_events, "_set_nodelay", None)
    if current is set_nodelay:
        return
    if current is None:  # asyncio changed: say so, serve as before
        _LOGGER.warning("asyncio has no _set_nodelay: connections keep Nagle's algorithm")
        return
    asyncio.base_events._set_nodelay = set_nodelay  # read by each new socket transport
    for transport in _open_transports():
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile
                set_nodelay(sock)
