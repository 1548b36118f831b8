"""Where Gradio 6.31 spends its time on a busy app, and what this app turns off.

Profiled with py-spy under 50 clients calling `/history` (bench/scale.py), two costs
dominated, both per call and both growing with use rather than with work:

1. **Session state.** Gradio 6.31 opens a `SessionState` for every session it sees, and every call over its HTTP
API (`/gradio_api/call/<name>`, `gradio_client`) is a session of its own. The constructor
renders the config of every component on the page (`config_for_block`, an
`inspect.signature` per component), about 10 ms for this page, on the event loop, where it
holds up every other request. Profiling `/history` under load put two thirds of the event
loop's time there (bench/scale.py). That config is read by deep links only; event handling
reads single entries of it.

   `LeanStateHolder` makes sessions whose config is filled per component on first use and
   in full only when a deep link asks for it. The app's lifespan installs it, before the
   server takes its first request.
2. **Queue analytics.** After every event the queue rebuilds a pandas DataFrame of the last
   10,000 events to summarise them for `/monitoring`, which this app keeps off: the cost of
   one call grew with the number of calls before it. `quiet_queue` keeps none of it.

Idle, a third cost: Gradio's queue looks for work every millisecond, busy or not, so an app
nobody used kept 6% of a core busy. `quiet_queue` makes that every 10 ms (bench/idle.py).

Smaller: Gradio enters `MatplotlibBackendMananger` around every call, which imports
matplotlib; where it is not installed each call is a failed import that searches every
folder on `sys.path` (twice). `skip_missing_matplotlib` makes that failure instant.
And FastAPI's native OpenTelemetry asks the environment for providers on every
request (three `os.environ` lookups); the app has no tracing, so `NO_TELEMETRY` says so once.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from copy import copy
from typing import Any

from gradio.state_holder import SessionState, StateHolder

# FastAPI(telemetry=...): no tracing, metrics or logs export (none is configured anyway).
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False}


class _ConfigOnDemand(dict):
    """`config_values` of a session: an entry is made the first time it is needed.

    Iterating (deep links, via `SessionState.components`) fills every entry first, in
    page order, so the result is what Gradio's eager dictionary would hold.
    """

    def __init__(self, session: LeanSessionState) -> None:
        super().__init__()
        self._session = session
        self._complete = False

    def _fill(self, key: Any) -> dict:
        config = self._session.blocks_config
        value = config.config_for_block(key, [], config.blocks[key])
        dict.__setitem__(self, key, value)
        return value

    def __missing__(self, key: Any) -> dict:
        if key not in self._session.page_ids:
            raise KeyError(key)
        return self._fill(key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._session.page_ids

    def complete(self) -> None:
        """Every entry, page components first in page order, then any added later."""
        if self._complete:
            return
        made = dict(dict.items(self))
        dict.clear(self)
        for key in self._session.page_order:
            if key in made:
                dict.__setitem__(self, key, made.pop(key))
            else:
                self._fill(key)
        for key, value in made.items():
            dict.__setitem__(self, key, value)
        self._complete = True

    def items(self) -> Any:  # the dict view, after filling every entry
        self.complete()
        return super().items()

    def values(self) -> Any:  # the dict view, after filling every entry
        self.complete()
        return super().values()

    def keys(self) -> Any:  # the dict view, after filling every entry
        self.complete()
        return super().keys()

    def __iter__(self) -> Iterator[Any]:
        self.complete()
        return super().__iter__()

    def __len__(self) -> int:
        self.complete()
        return super().__len__()


class LeanSessionState(SessionState):
    """A `SessionState` whose `config_values` are made on demand (see the module docstring)."""

    def __init__(self, blocks: Any) -> None:  # deliberately not calling the eager constructor
        self.blocks_config = copy(blocks.default_config)
        self.page_ids = frozenset(k for k in self.blocks_config.blocks if k in blocks.blocks)
        self.page_order = [k for k in self.blocks_config.blocks if k in self.page_ids]
        self.config_values = _ConfigOnDemand(self)
        self.state_data: dict[int, Any] = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


class LeanStateHolder(StateHolder):
    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSessionState(self.blocks)
        return super().__getitem__(session_id)


@asynccontextmanager
async def lean_sessions(app: Any) -> AsyncIterator[None]:
    """A lifespan for Gradio's app: swap in the lean state holder before the first request."""
    holder = LeanStateHolder()
    holder.set_blocks(app.get_blocks())
    app.state_holder = holder
    yield


def skip_missing_matplotlib() -> None:
    """Where matplotlib is not installed, remember that (a `None` entry in `sys.modules` makes
    `import matplotlib` raise ImportError at once, as it would after the search). Installed, it
    is left alone."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]


# How often an idle queue looks for work (seconds). Gradio polls every 1 ms on Linux (50 ms on
# Windows) and its progress loop every 10 ms: an app nobody uses kept 6% of a core busy
# (bench/idle.py). At 10 ms an event waits at most 10 ms longer to start; progress shows 20 times a second.
IDLE_POLL = 0.01
PROGRESS_POLL = 0.05


def quiet_queue(blocks: Any) -> None:
    """No per-event analytics (they feed only `/monitoring`, which the app keeps off), and an
    idle queue that polls at `IDLE_POLL`, not 1,000 times a second.

    Gradio reads the analytics limits from GRADIO_ANALYTICS_* environment variables when the
    queue is made; setting them on this app's queue leaves other apps in the process alone.
    """
    queue = blocks._queue
    queue.ANALYTICS_MAX_EVENTS = 1  # keep one record, not 10,000
    queue.ANAYLTICS_CACHE_FREQUENCY = sys.maxsize  # (sic) never rebuild the summary
    queue.sleep_when_free = max(queue.sleep_when_free, IDLE_POLL)
    queue.progress_update_sleep_when_free = max(queue.progress_update_sleep_when_free, PROGRESS_POLL)


# Per-component entries of the config that the page's JavaScript never reads: the API
# schemas and examples (the page's "Use via API" view reads `window.gradio_api_info`;
# gradio_client reads `/config`, which keeps them). They were two thirds of the page.
_SCHEMA_KEYS = frozenset(("api_info", "api_info_as_input", "api_info_as_output", "example_inputs"))


def lean_page_config() -> None:
    """The HTML page embeds its config without the per-component API schemas.

    Gradio renders `window.gradio_config` through its template's `toorjson` filter; the
    wrapped filter leaves those keys out of the page's copy (the app's config and `/config`
    keep them). Idempotent; every app in the process shares Gradio's template environment.
    """
    from gradio import routes

    filters = routes.templates.env.filters
    if getattr(filters["toorjson"], "lean", False):
        return
    render = filters["toorjson"]

    def toorjson(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("components"), list):
            components = [{k: v for k, v in c.items() if k not in _SCHEMA_KEYS} if isinstance(c, dict) else c
                          for c in value["components"]]
            value = {**value, "components": components}
        return render(value)

    toorjson.lean = True  # type: ignore[attr-defined]
    filters["toorjson"] = toorjson
