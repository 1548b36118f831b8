"""The steps a streamed page event (Generate, Compare, Matrix) yields, each one whole.

Gradio sends every step of a generator event but the first as a patch against the step
before, and its page applies that patch in place onto the objects it handed out for the
previous step. A step that skips an output (`gr.skip()`) after one that set it deletes the
earlier update's keys; when the page reads the earlier step late (a busy machine: two steps
in one read), that update is gone: Stop stays disabled during a run, Try again stays up,
the picture vanishes at "Done".

So an output, once a run has set it, is stated again in every later step (`Steps`): a
repeated value is an empty patch and touches nothing the page still has to read. What
every run shows while it waits (status line, Stop, Try again) follows from the run's
progress events in one place (`job_state`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr


class Steps:
    """One run's outputs in their event's order; `step(**changes)` is the next step, whole.

    What the run has not set yet stays `gr.skip()` (the page keeps what it shows); what it
    has set is repeated until changed.
    """

    def __init__(self, *names: str) -> None:
        self._names = names
        self._held: dict[str, Any] = {}

    def __call__(self, **changes: Any) -> tuple[Any, ...]:
        unknown = set(changes) - set(self._names)
        if unknown:
            raise TypeError(f"not an output of this event: {sorted(unknown)}")
        self._held.update(changes)
        return tuple(self._held[name] if name in self._held else gr.skip() for name in self._names)


def stop_button(running: bool) -> gr.Button:
    """Stop can do something only while a job runs (and has not been stopped yet)."""
    return gr.Button(interactive=running)


def job_state(kind: str, value: Any) -> dict[str, Any]:
    """What a progress event (`GenerateHandlers.progress`) means for the outputs every run has:
    `status` (the line), `stop` and `retry` (Try again)."""
    if kind == "start":
        return {"status": value, "stop": stop_button(True), "retry": gr.Button(visible=False)}
    if kind == "status":
        return {"status": value}
    if kind == "stopping":
        return {"status": value, "stop": stop_button(False)}
    if kind == "end":
        line, retry = value
        return {"status": line, "stop": stop_button(False), "retry": gr.Button(visible=retry)}
    return {}


def refused(line: str) -> dict[str, Any]:
    """A run refused before it started: the reason stays in the status line, nothing to stop or retry."""
    return {"status": line, "stop": stop_button(False), "retry": gr.Button(visible=False)}
