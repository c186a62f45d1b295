"""A port that never completes a connection: a connect timeout, on demand, without a network.

A listening socket whose accept queue (backlog 0) is filled by one connection nobody accepts:
Linux then drops further SYNs, so a client's connect hangs until its own timeout. The request
never reaches any server, which is what a connect timeout means to the sender.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

PROBE_TIMEOUT_S = 0.2


@contextmanager
def blackhole() -> Iterator[str]:
    """Yields `http://127.0.0.1:<port>`, where every new connection times out while it lasts."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        while True:  # fill the accept queue until a connection attempt times out
            client = socket.socket()
            client.settimeout(PROBE_TIMEOUT_S)
            try:
                client.connect(("127.0.0.1", port))
            except TimeoutError:
                client.close()
                break
            fillers.append(client)
        yield f"http://127.0.0.1:{port}"
    finally:
        for client in fillers:
            client.close()
        listener.close()
