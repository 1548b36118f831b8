"""No one visitor stalls the rest: a cap on each visitor's generations, served in turn.

Gradio queues every generation event (they share the concurrency id `generate`) in
one first-come, first-served list, so a script that submits 500 calls makes every
other visitor wait behind all of them. `VisitorQueue` wraps the push of Gradio's queue
— the one door every queued call goes through: the page, `/gradio_api/call/…`,
`gradio_client` and the MCP server's loopback client — and

- refuses at once (HTTP 429, a message in the visitor's language) a generation from a
  visitor who already has `per_visitor` generations queued or running, or when
  `total` generations are already waiting across everyone;
- reorders the waiting list so that visitors take turns: each waiting event is ranked
  by how many of its visitor's events run or wait ahead of it, so one visitor's
  eighth job never delays another visitor's first.

A visitor is the logged-in user, else the browser session (`session_hash`); calls
that carry no session share one "anonymous" visitor. Counts are read from Gradio's
queue itself (waiting list and active jobs, Gradio 6.31's `Queue`), so a cancelled or
finished event frees its place without any bookkeeping of ours that could drift;
only the pushes still in progress are counted here.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any, Callable, Iterable

from fastapi import HTTPException

from . import i18n
from .errors import AppError, render

log = logging.getLogger(__name__)

GENERATE = "generate"  # the concurrency id every generation event declares (webui/ui/ takes it from here)
ANONYMOUS = "anonymous"


class VisitorQueue:
    def __init__(self, blocks: Any, per_visitor: int, total: int = 256) -> None:
        self.blocks, self.per_visitor, self.total = blocks, per_visitor, total
        self._visitors: dict[str, str] = {}  # event id → visitor, for the events we admitted
        self._joining: Counter[str] = Counter()  # pushes awaiting Gradio, per visitor
        self._push: Callable[..., Any] | None = None

    def install(self) -> "VisitorQueue":
        """Put this in front of the push of the Blocks' queue (call after `blocks.queue()`)."""
        queue = self.blocks._queue
        self._push = queue.push
        queue.push = self.push
        return self

    # -- Gradio's queue, read -----------------------------------------------------------

    def _waiting(self) -> list[Any]:
        event_queue = self.blocks._queue.event_queue_per_concurrency_id.get(GENERATE)
        return event_queue.queue if event_queue is not None else []

    def _running(self) -> Iterable[Any]:
        for job in self.blocks._queue.active_jobs:
            for event in job or ():
                if event.concurrency_id == GENERATE:
                    yield event

    def _visitor_of(self, event: Any) -> str:
        return self._visitors.get(event._id) or visitor(event.username, event.session_hash)

    def counts(self) -> tuple[Counter[str], Counter[str], int]:
        """(running per visitor, waiting per visitor, waiting in all); forgets events that are gone."""
        running = Counter(self._visitor_of(e) for e in self._running())
        waiting_events = self._waiting()
        waiting = Counter(self._visitor_of(e) for e in waiting_events)
        live = {e._id for e in waiting_events} | {e._id for e in self._running()}
        for gone in self._visitors.keys() - live:
            del self._visitors[gone]
        return running, waiting, len(waiting_events)

    # -- the door ---------------------------------------------------------------------

    async def push(self, body: Any, request: Any, username: str | None) -> Any:
        assert self._push is not None, "install() first"
        if not self._is_generation(body):
            return await self._push(body, request, username)
        who = visitor(username, body.session_hash)
        running, waiting, total_waiting = self.counts()
        mine = running[who] + waiting[who] + self._joining[who]
        if mine >= self.per_visitor or total_waiting + sum(self._joining.values()) >= self.total:
            error = (AppError("too_many_queued", limit=self.per_visitor) if mine >= self.per_visitor
                     else AppError("app_busy", waiting=total_waiting))
            log.info("Refused a generation for %s: %s", who, error)
            lang = i18n.pick_language(request.headers.get("accept-language"))
            raise HTTPException(status_code=429, detail=render(error, lang), headers={"Retry-After": "10"})
        self._joining[who] += 1
        try:
            success, event_id, state = await self._push(body, request, username)
        finally:
            self._joining[who] -= 1
            if self._joining[who] <= 0:
                del self._joining[who]
        if success:
            self._visitors[event_id] = who
            self.take_turns()
        return success, event_id, state

    def _is_generation(self, body: Any) -> bool:
        fns = self.blocks.fns
        fn = fns.get(body.fn_index) if body.fn_index is not None else None
        return fn is not None and fn.concurrency_id == GENERATE

    def take_turns(self) -> None:
        """Reorder the waiting list in place: rank = the visitor's events running or waiting ahead.

        Synchronous (no await), so Gradio's scheduler never sees a half-sorted list.
        """
        waiting = self._waiting()
        if len(waiting) < 2:
            return
        ahead = Counter(self._visitor_of(e) for e in self._running())
        ranked = []
        for position, event in enumerate(waiting):
            who = self._visitor_of(event)
            ranked.append((ahead[who], position, event))
            ahead[who] += 1
        waiting[:] = [event for _, _, event in sorted(ranked, key=lambda r: (r[0], r[1]))]


def visitor(username: str | None, session_hash: str | None) -> str:
    """Whose generation this is: the user, else the browser session, else the shared anonymous one."""
    if username:
        return f"user:{username}"
    return f"session:{session_hash}" if session_hash else ANONYMOUS
