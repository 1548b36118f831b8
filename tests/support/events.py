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
        self._defaults = {c["id"]: c.get("props", {}).get("value") for c in config["components"]}
        self._deps = config["dependencies"]

    def find(self, *, reads: tuple[str, ...] = (), writes: tuple[str, ...] = ()) -> int:
        """The id of the first event whose inputs include `reads` and outputs include `writes`."""
        want_in = {self._ids[e] for e in reads}
        want_out = {self._ids[e] for e in writes}
        for dep in self._deps:
            if want_in <= set(dep["inputs"]) and want_out <= set(dep["outputs"]):
                return dep["id"]
        raise LookupError(f"no event reads {reads} and writes {writes}")

    def outputs(self, fn_index: int) -> list[str | None]:
        """The elem_ids of the event's outputs, in the order of its output data."""
        names = {i: name for name, i in self._ids.items()}
        dep = next(d for d in self._deps if d["id"] == fn_index)
        return [names.get(i) for i in dep["outputs"]]

    def inputs(self, fn_index: int, values: dict[str, Any]) -> list[Any]:
        """The event's input data as the page would send it: `values` by elem_id, every other
        input its component's value in the config; independent of the order of the inputs."""
        by_id = {self._ids[name]: value for name, value in values.items()}
        dep = next(d for d in self._deps if d["id"] == fn_index)
        return [by_id.get(i, self._defaults.get(i)) for i in dep["inputs"]]

    def call(self, fn_index: int, data: list[Any], timeout: float = 60,
             event_data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one event; the final message (`success`, `output` with `data` or `error`).

        `event_data` is what a `.select` handler's `gr.SelectData` holds (`{"index": 0}`)."""
        return self.messages(fn_index, data, timeout, event_data)[-1]

    def messages(self, fn_index: int, data: list[Any], timeout: float = 60,
                 event_data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one event; every message the stream carried for it, the final one last.

        A generator's steps come as `process_generating` messages: the first one whole, each
        later one as edits (Gradio's `utils.diff`) to the step before."""
        joined = self.session.post(self.url + "gradio_api/queue/join", timeout=10, json={
            "data": data, "fn_index": fn_index, "session_hash": self.session_hash,
            "event_data": event_data, "trigger_id": None,
        })
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        messages: list[dict[str, Any]] = []
        with self.session.get(self.url + "gradio_api/queue/data", params={"session_hash": self.session_hash},
                              stream=True, timeout=timeout) as stream:
            for line in stream.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                messages.append(message)
                if message.get("msg") == "process_completed":
                    return messages
        raise AssertionError(f"event {fn_index} never completed")


def file_data(path: str) -> dict[str, Any]:
    """A `FileData` input naming a file on the server, as a client may send one."""
    return {"path": path, "orig_name": path.rsplit("/", 1)[-1], "meta": {"_type": "gradio.FileData"}}
