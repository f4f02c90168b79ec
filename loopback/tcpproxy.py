"""A loopback TCP proxy that can cut the link: reset every connection, or stall it (bytes held, not lost); round-robin over upstreams.

Runs its own event loop in a thread, so the process under test (a subprocess) and the test both see a real
network path: `TcpProxy(upstreams).start()`, point the client at `proxy.port`, then `reset()`, `stall()`,
`heal()`. Several upstreams are used round-robin per connection (a load balancer in front of processes);
`route(upstreams)` replaces them (the balancer's configuration reloaded: containers whose addresses are known only
once they run, or one that came back on a new address).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import struct
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)


class TcpProxy:
    def __init__(self, upstreams: list[tuple[str, int]], host: str = "127.0.0.1") -> None:
        self.upstreams = upstreams
        self.host = host
        self.port = 0
        self.mode = "pass"  # "pass", "reset" (RST everything, refuse new), "stall" (hold every byte)
        self.connections = 0
        self.per_upstream: list[int] = [0] * len(upstreams)  # connections handed to each upstream
        self._next = itertools.cycle(range(len(upstreams)))
        self._links: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._healed: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # ---- control (any thread) -----------------------------------------------------------------

    def start(self) -> TcpProxy:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._start())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=serve, name="tcpproxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise TimeoutError("the proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._close_all)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def route(self, upstreams: list[tuple[str, int]]) -> None:
        """New connections go round-robin over `upstreams` (counted afresh in `per_upstream`); open ones stay."""
        self._call(self._route, list(upstreams))

    def reset(self) -> None:
        """Every open connection gets a TCP RST; new ones are reset as soon as they are accepted."""
        self._call(self._set_mode, "reset")

    def stall(self) -> None:
        """Open connections stop moving bytes (held, then delivered at `heal`); new ones wait too."""
        self._call(self._set_mode, "stall")

    def heal(self) -> None:
        self._call(self._set_mode, "pass")

    def _call(self, function, *args) -> None:  # noqa: ANN001
        assert self._loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                function(*args)
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(10)

    # ---- on the proxy's loop --------------------------------------------------------------------

    async def _start(self) -> None:
        self._healed = asyncio.Event()
        self._healed.set()
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def _set_mode(self, mode: str) -> None:
        assert self._healed is not None
        self.mode = mode
        if mode == "pass":
            self._healed.set()
        else:
            self._healed.clear()
        if mode == "reset":
            for link in list(self._links):
                self._abort(link)

    def _route(self, upstreams: list[tuple[str, int]]) -> None:
        self.upstreams = upstreams
        self.per_upstream = [0] * len(upstreams)
        self._next = itertools.cycle(range(len(upstreams)))

    def _close_all(self) -> None:
        for link in list(self._links):
            self._abort(link)
        if self._server is not None:
            self._server.close()

    @staticmethod
    def _rst(writer: asyncio.StreamWriter | None) -> None:
        if writer is None:
            return
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        writer.transport.abort()

    def _abort(self, link: _Link) -> None:
        self._links.discard(link)
        for task in link.tasks:
            task.cancel()
        self._rst(link.client)
        self._rst(link.upstream)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._healed is not None
        self.connections += 1
        link = _Link(writer)
        if self.mode == "reset":
            self._rst(writer)
            return
        self._links.add(link)
        await self._healed.wait()  # a stalled link accepts, then connects upstream only when healed
        if link not in self._links:
            return
        if not self.upstreams:  # nowhere to go yet: refused, as a balancer with no backend refuses
            self._abort(link)
            return
        index = next(self._next)
        self.per_upstream[index] += 1
        host, port = self.upstreams[index]
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            self._abort(link)
            return
        link.upstream = up_writer
        link.tasks = [asyncio.create_task(self._pipe(reader, up_writer, link)),
                      asyncio.create_task(self._pipe(up_reader, writer, link))]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link) -> None:
        assert self._healed is not None
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if not self._healed.is_set():
                    await self._healed.wait()  # stalled: hold the bytes until healed
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            if link in self._links:
                self._links.discard(link)
                for task in link.tasks:
                    if task is not asyncio.current_task():
                        task.cancel()
                for side in (link.client, link.upstream):
                    if side is not None:
                        side.close()
