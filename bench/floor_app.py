"""The floor for bench/scale.py: a bare FastAPI route that returns what `/history("", offset, limit)`
returns, read from the same SQLite index file, served by the same uvicorn as Gradio's.

    python bench/floor_app.py PORT INDEX_FILE

No login, no middleware, no validation beyond ints: what is left is HTTP, one SQLite
query and the JSON, the least any route serving this list could cost here.
"""

from __future__ import annotations

import sqlite3
import sys
import threading

import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response


def build(index: str) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
    lock = threading.Lock()

    @app.get("/history")
    def history(q: str = "", offset: int = 0, limit: int = 50) -> Response:
        with lock:
            rows = conn.execute("SELECT record FROM images ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                                (limit, offset)).fetchall()
        body = "[" + ",".join(r[0] for r in rows) + "]"  # the stored records are JSON already
        return Response(body.encode(), media_type="application/json")

    return app


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
