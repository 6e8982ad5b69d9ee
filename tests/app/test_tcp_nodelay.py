"""ui/tcp_nodelay.py: the server's connections get TCP_NODELAY, those accepted after `install()`
and those already open, on a listening socket made as Streamlit makes it (no protocol number)."""

import asyncio
import socket

import pytest

from ui import tcp_nodelay


@pytest.fixture
def restored(monkeypatch):
    """asyncio's own _set_nodelay during the test (an app run in this process installs ours),
    whatever was there back after it."""
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", tcp_nodelay.ASYNCIO_SET_NODELAY)


class _Kept(asyncio.Protocol):
    def __init__(self, transports: list):
        self.transports = transports

    def connection_made(self, transport):
        self.transports.append(transport)


async def _accept(server_transports: list, port: int) -> tuple[socket.socket, asyncio.Transport]:
    """A client connection to `port`, and the server's transport for it."""
    count = len(server_transports)
    client = socket.create_connection(("127.0.0.1", port))
    while len(server_transports) == count:
        await asyncio.sleep(0.01)
    return client, server_transports[-1]


def _nodelay(transport: asyncio.Transport) -> int:
    return transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


async def _scenario() -> tuple[int, int, int]:
    """TCP_NODELAY of: a connection before install(), the same one after, one accepted after."""
    listener = socket.socket(socket.AF_INET)  # proto 0, as Streamlit's _bind_socket makes it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    transports: list = []
    server = await asyncio.get_running_loop().create_server(lambda: _Kept(transports),
                                                            sock=listener)
    port = listener.getsockname()[1]
    clients = []
    try:
        client, before = await _accept(transports, port)
        clients.append(client)
        without = _nodelay(before)
        tcp_nodelay.install()
        client, after = await _accept(transports, port)
        clients.append(client)
        return without, _nodelay(before), _nodelay(after)
    finally:
        for client in clients:
            client.close()
        server.close()
        await server.wait_closed()


def test_every_connection_gets_nodelay_once_installed(restored):
    without, open_before, accepted_after = asyncio.run(_scenario())
    assert without == 0  # asyncio leaves Nagle on: the reason for the module
    assert open_before != 0 and accepted_after != 0


def test_install_twice_changes_nothing(restored):
    tcp_nodelay.install()
    tcp_nodelay.install()
    assert asyncio.base_events._set_nodelay is tcp_nodelay.set_nodelay
