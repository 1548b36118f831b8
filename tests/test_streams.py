"""Every streamed step of Generate, Batch, Compare and Matrix reads the same on time or late.

Gradio sends a generator's steps after the first as edits to the step before, and its page
applies each edit in place onto the objects it handed out for the earlier step
(`@gradio/client`: `apply_diff_stream`). A page that reads a step late (a busy machine)
reads it already edited by the next. If a later step skips an output an earlier one set,
the edit deletes that update (Stop stayed disabled during a run). Here the steps come over
HTTP from an in-process app, are replayed the way the page replays them, and read both
ways; the browser side is tests/test_browser_streams.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .conftest import token
from .support.apps import ServedApp
from .support.events import Events

State = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def app(module_app: ServedApp) -> ServedApp:
    """This module's own demo app (conftest `module_app`)."""
    return module_app


def patch(value: Any, edits: list[list[Any]]) -> Any:
    """The page's `apply_diff`: each edit applied in place where it points inside `value`."""
    for action, path, new in edits:
        if not path:
            value = new if action == "replace" else value + new
            continue
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "replace":
            parent[key] = new
        elif action == "append":
            parent[key] += new
        elif action == "add":
            if isinstance(parent, list):
                parent.insert(key, new)
            else:
                parent[key] = new
        elif action == "delete":
            del parent[key]
    return value


def show(state: State, names: list[str | None], step: list[Any]) -> None:
    """Apply one step to what the page shows: an update sets the props it names (none for
    `gr.skip()`), anything else is the new value."""
    for name, value in zip(names, step):
        shown = state.setdefault(str(name), {})
        if isinstance(value, dict) and value.get("__type__") == "update":
            shown.update({k: v for k, v in value.items() if k != "__type__"})
        else:
            shown["value"] = value


def replay(names: list[str | None], messages: list[dict[str, Any]], upto: int) -> tuple[State, State]:
    """What the page shows after the first `upto` messages, read (on time, late): on time each
    step is read as it arrives; late, every step is read only after the last one was applied."""
    on_time: State = {}
    handed: list[list[Any]] = []  # the objects the page hands out per step (edited in place later)
    current: list[Any] = []
    for message in messages[:upto]:
        data = message["output"]["data"]
        if message["msg"] == "process_completed" or not handed:  # sent whole
            current = list(data)
        else:
            current = [patch(value, edits) for value, edits in zip(current, data)]
        handed.append(list(current))
        show(on_time, names, copy.deepcopy(current))
    late: State = {}
    for step in handed:
        show(late, names, step)
    return on_time, late


def run(events: Events, writes: str, values: dict[str, Any]) -> tuple[list[str | None], list[dict[str, Any]]]:
    """Run the page event that reads `values` (by elem_id) and writes `writes`; its output names
    and its steps."""
    fn = events.find(reads=tuple(values), writes=(writes,))
    messages = events.messages(fn, events.inputs(fn, values), timeout=120)
    assert messages[-1]["success"], messages[-1]
    steps = [m for m in messages if m["msg"] in ("process_generating", "process_completed")]
    return events.outputs(fn), steps


def form(prompt: str, **more: Any) -> dict[str, Any]:
    return {"prompt": prompt, "model": "FLUX.1-schnell", "size": "768x512", "enhance": False, "seed": 7,
            "tz": "UTC", **more}


RUNS = {
    "generate": ("result", lambda word: form(f"a lighthouse {word}", **{"batch-count": 1})),
    "batch": ("result", lambda word: form(f"three lighthouses {word}", **{"batch-count": 3})),
    "compare": ("compare-grid", lambda word: form(f"a lighthouse {word}",
                                                  **{"compare-models": ["FLUX.1-schnell", "stable-diffusion-3-5-large"]})),
    "matrix": ("matrix-grid", lambda word: {"matrix-prompts": f"a red door {word}\na blue door {word}",
                                            "matrix-models": ["FLUX.1-schnell"], "matrix-sizes": ["768x512"],
                                            "matrix-both": False, "seed": 7, "tz": "UTC"}),
}


@pytest.mark.parametrize("kind", RUNS)
def test_a_step_read_late_shows_what_it_showed_on_time(app: ServedApp, kind: str) -> None:
    writes, values = RUNS[kind]
    stop = {"result": "stop", "compare-grid": "compare-stop", "matrix-grid": "matrix-stop"}[writes]
    names, steps = run(Events(app.url), writes, values(token()))
    assert len(steps) >= 3, steps  # start, a picture, the end (and the whole last step again)
    for upto in range(1, len(steps) + 1):
        on_time, late = replay(names, steps, upto)
        assert late == on_time, f"after step {upto} of {len(steps)}"
        # Stop can stop something from the first step until the last.
        assert late[stop]["interactive"] is (upto < len(steps) - 1), f"Stop after step {upto}"
    final = replay(names, steps, len(steps))[1]
    assert final[writes]["value"], final  # the picture, or the grid
    assert 'data-state="done"' in str(final[{"result": "status", "compare-grid": "compare-status",
                                             "matrix-grid": "matrix-status"}[writes]]["value"])


def test_a_run_refused_before_anything_is_sent_says_why_in_one_step(app: ServedApp) -> None:
    """Generate, Compare and Matrix refuse bad input the same way (`GenerateHandlers.refusal`): one
    step, the reason in the status line, Stop off and no Try again."""
    handlers = app.app.handlers
    form = {"prompt": "", "model": "FLUX.1-schnell", "image_size": "768x512", "prompt_enhancement": False, "seed": -1}
    runs = {"generate": handlers.generate.run(1, False, None, None, **form),  # type: ignore[arg-type]
            "compare": handlers.generate.compare([], [], False, None, None, **form),  # type: ignore[arg-type]
            "matrix": handlers.library.run_matrix(-1, None, None, prompts="", models=[], sizes=[])}  # type: ignore[arg-type]
    for name, steps in runs.items():
        [(*_, line, stop, retry)] = list(steps)
        assert 'data-state="error"' in line and "Please type a prompt first" in line, name
        assert stop.interactive is False and retry.visible is False, name
