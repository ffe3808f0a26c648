"""The port `edgeport dev` prints: a TCP front that forwards each connection to the target's current host.

A reload starts the new hosts on ports of their own, points the fronts at them and only then stops the old
hosts, once the connections they still serve are done (or after a grace period). So no client ever sees a
refused connection while edge code or the stack file changes. The front copies bytes both ways and never parses
HTTP: raw request targets (the CloudFront emulation reads them), WebSocket upgrades and streamed bodies pass
through as they are.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from ..errors import LocalRunError

CHUNK = 64 * 1024


class Front:
    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as e:
            self.sock.close()
            raise LocalRunError(f"port {port} is busy ({e.strerror})") from None
        self.sock.listen(128)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.backend: int | None = None
        self.active: dict[int, int] = {}  # backend port -> open connections through the front
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve():
            self._server = await asyncio.start_server(self._handle, sock=self.sock)
            self._ready.set()

        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            port = self.backend
            if port is not None:
                self.active[port] = self.active.get(port, 0) + 1
        if port is None:
            writer.close()
            return
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, up_writer, writer), _pipe(up_reader, writer, up_writer))
            up_writer.close()
        finally:
            writer.close()
            with self._lock:
                self.active[port] -= 1

    def switch(self, port: int) -> int | None:
        """Send new connections to `port`; returns the previous backend port."""
        if port == self.port:
            raise LocalRunError(f"a front cannot forward to itself (port {port})")
        with self._lock:
            old, self.backend = self.backend, port
        return old

    def drain(self, port: int | None, timeout: float) -> bool:
        """Wait until no connection through the front is open to `port` (True), or `timeout` passes (False)."""
        deadline = time.monotonic() + timeout
        while port is not None and self.active.get(port, 0) > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        def stop():
            self._server.close()
            self._loop.stop()

        if self._loop.is_running():
            self._loop.call_soon_threadsafe(stop)
            self._thread.join(5)
        self.sock.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, other: asyncio.StreamWriter) -> None:
    """Copy one direction. An end of stream travels on as a half-close; a reset closes both directions."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()
    except (ConnectionError, OSError):
        writer.close()
        other.close()
