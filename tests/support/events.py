"""Call a page event the way the browser does: `/gradio_api/queue/join`, then the SSE stream.

Page-only events have no API name, so a test finds one by the components it reads or
writes (their `elem_id`s), as an attacker reading `/config` would.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests


class Events:
    """The events of one app as seen by one HTTP session (its login cookie, if any)."""

    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        self.url = url
        self.session = session or requests.Session()
        self.session_hash = uuid.uuid4().hex[:11]
        config = self.session.get(url + "config", timeout=10).json()
        self._ids = {c["props"].get("elem_id"): c["id"] for c in config["components"] if c.get("props")}
        self._deps = config["dependencies"]

    def find(self, *, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()) -> int:
        """The id of the first event whose inputs include `reads` and outputs include `writes`."""
        want_in = {self._ids[e] for e in reads}
        want_out = {self._ids[e] for e in writes}
        for dep in self._deps:
            if want_in <= set(dep["inputs"]) and want_out <= set(dep["outputs"]):
                return dep["id"]
        raise LookupError(f"no event reads {reads} and writes {writes}")

    def call(self, fn_index: int, data: list[Any], timeout: float = 60,
             event_data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one event; the final message (`success`, `output` with `data` or `error`).

        `event_data` is what a `.select` handler's `gr.SelectData` holds (`{"index": 0}`)."""
        joined = self.session.post(self.url + "gradio_api/queue/join", timeout=10, json={
            "data": data, "fn_index": fn_index, "session_hash": self.session_hash,
            "event_data": event_data, "trigger_id": None,
        })
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        with self.session.get(self.url + "gradio_api/queue/data", params={"session_hash": self.session_hash},
                              stream=True, timeout=timeout) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    return message
        raise AssertionError(f"event {fn_index} never completed")


def file_data(path: str) -> dict[str, Any]:
    """A `FileData` input naming a file on the server, as a client may send one."""
    return {"path": path, "orig_name": path.rsplit("/", 1)[-1], "meta": {"_type": "gradio.FileData"}}
