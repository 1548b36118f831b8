"""A small HTTP/1.1 load client on asyncio: N keep-alive connections calling one endpoint in a loop.

The load generator shares the machine's two cores with the server it measures, so it must
cost little per call: `requests` in 100 threads spends more CPU than a fast server does. This
client speaks just enough HTTP/1.1 (Content-Length and chunked bodies, keep-alive) for three
kinds of call: a plain GET (REST, the floor), and Gradio's call API (POST `call/<name>`, then
the SSE GET until `event: complete`). No compression is asked for.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


class HttpError(Exception):
    """A status other than 200, or a malformed answer."""


@dataclass
class Connection:
    host: str
    port: int
    headers: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def _ensure(self) -> None:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
            self.writer = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      on_chunk: Callable[[bytes], bool] | None = None) -> tuple[int, bytes]:
        """Send one request, read the whole answer; `on_chunk` sees a chunked body as it comes."""
        await self._ensure()
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        try:
            return await self._read_answer(on_chunk)
        except BaseException:
            await self.close()  # a half-read answer leaves the connection unusable
            raise

    async def _read_answer(self, on_chunk: Callable[[bytes], bool] | None) -> tuple[int, bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
                if on_chunk is not None:
                    on_chunk(chunk[:-2])
            data = b"".join(parts)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data


Call = Callable[[Connection], Awaitable[Any]]


def rest_get(path: str) -> Call:
    """GET `path`, expect 200 and a JSON body."""

    async def call(conn: Connection) -> Any:
        status, data = await conn.request("GET", path)
        if status != 200:
            raise HttpError(f"GET {path}: {status} {data[:200]!r}")
        return json.loads(data)

    return call


def gradio_call(prefix: str, api_name: str, args: list[Any]) -> Call:
    """Gradio's call API: POST `{prefix}call/<api_name>` → event id, then the SSE GET to `complete`."""
    body = json.dumps({"data": args}).encode()

    async def call(conn: Connection) -> Any:
        status, data = await conn.request("POST", f"{prefix}call/{api_name}", body)
        if status != 200:
            raise HttpError(f"POST call/{api_name}: {status} {data[:200]!r}")
        event_id = json.loads(data)["event_id"]
        status, data = await conn.request("GET", f"{prefix}call/{api_name}/{event_id}")
        if status != 200:
            raise HttpError(f"GET call/{api_name}: {status} {data[:200]!r}")
        event = None
        for line in data.decode().split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise HttpError(f"call/{api_name}: error {line[:200]}")
                return json.loads(line[5:])
        raise HttpError(f"call/{api_name}: stream ended without complete: {data[:200]!r}")

    return call


@dataclass
class LoadResult:
    clients: int
    latencies: list[float]  # seconds, one per successful call
    errors: list[str]
    wall: float  # seconds from the first call to the last answer

    @property
    def calls_per_s(self) -> float:
        return len(self.latencies) / self.wall if self.wall > 0 else 0.0


async def _run(url: str, call: Call, clients: int, calls_per_client: int, warmup: int,
               headers: dict[str, str]) -> LoadResult:
    parts = urlsplit(url)
    conns = [Connection(parts.hostname or "127.0.0.1", parts.port or 80, dict(headers)) for _ in range(clients)]
    latencies: list[float] = []
    errors: list[str] = []

    async def client(conn: Connection) -> None:
        for _ in range(warmup):
            try:
                await call(conn)
            except (HttpError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"warm-up: {type(exc).__name__}: {exc}"[:300])
        ready.append(conn)
        if len(ready) == clients:
            all_ready.set()
        await start.wait()
        for _ in range(calls_per_client):  # bounded: a fixed number of calls per client
            t0 = time.perf_counter()
            try:
                await call(conn)
            except (HttpError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            latencies.append(time.perf_counter() - t0)

    ready: list[Connection] = []
    all_ready, start = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(client(c)) for c in conns]
    await all_ready.wait()  # every client has its connection and warm-up done first
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    for conn in conns:
        await conn.close()
    return LoadResult(clients, latencies, errors, wall)


def run_load(url: str, call: Call, clients: int, calls_per_client: int, warmup: int = 2,
             headers: dict[str, str] | None = None) -> LoadResult:
    """`clients` connections, each making `warmup` untimed calls, then `calls_per_client` timed ones."""
    return asyncio.run(_run(url, call, clients, calls_per_client, warmup, headers or {}))
