"""A reverse proxy that serves an app under a path prefix, as nginx or a company portal would.

`http://127.0.0.1:<port>/<prefix>/x` is forwarded to `<target>/x` (headers, cookies and body as
sent; answers streamed back as they come, so event streams work); anything outside the prefix
is 404, so a URL the app spelled from `/` fails here as it fails behind a real proxy.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP = {"connection", "keep-alive", "transfer-encoding", "host", "proxy-connection", "upgrade"}


class PrefixProxy:
    """Serves `target` (a URL ending in "/") at `url` = http://127.0.0.1:<port>/<prefix>/ until `close()`."""

    def __init__(self, target: str, prefix: str) -> None:
        self.prefix = "/" + prefix.strip("/")
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                if not (self.path + "/").startswith(proxy.prefix + "/"):
                    self.send_error(404)
                    return
                rest = self.path[len(proxy.prefix):].lstrip("/")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                with requests.request(self.command, target + rest, headers=headers, data=body, stream=True,
                                      allow_redirects=False, timeout=120) as answer:
                    self.send_response(answer.status_code)
                    for name, value in answer.raw.headers.items():
                        if name.lower() in HOP:
                            continue
                        if name.lower() == "location" and value.startswith("/"):
                            value = proxy.prefix + value
                        self.send_header(name, value)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if self.command != "HEAD":
                        for chunk in answer.raw.stream(8192, decode_content=False):
                            self.wfile.write(chunk)
                            self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
