"""The `#status` line: what is happening now, in the visitor's language, as safe HTML.

One renderer for every kind of job (Generate, Batch, Compare, Variation), so waiting,
done, stopped and failed look and read the same everywhere. Elapsed time ticks in the
browser (a small script in `ui.common.HEAD` advances every `.elapsed` span), so the
server only re-renders when something actually changes.
"""

from __future__ import annotations

import html
import statistics
from typing import Any, Iterable

from .. import i18n

TYPICAL_SAMPLE = 50  # the last N images of a model and size make "usually about …"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _line(kind: str, parts: Iterable[str], *, alert: bool = False) -> str:
    """Parts (already HTML) joined with a dot; `kind` is waiting, done, stopped or error."""
    role = 'role="alert"' if alert else 'role="status" aria-live="polite"'
    icon = {"waiting": '<span class="spinner" aria-hidden="true"></span>', "done": "✓", "stopped": "■",
            "error": "⚠"}[kind]
    body = " · ".join(p for p in parts if p)
    return f'<div class="status-line {kind}" data-state="{kind}" {role}><span class="icon">{icon}</span> {body}</div>'


def elapsed_span(seconds: float, lang: str) -> str:
    """"3 s so far": a span the page's script keeps counting from `seconds`."""
    unit, minutes = i18n.label("unit_s", lang), i18n.label("unit_min", lang)
    template = _esc(i18n.label("status_elapsed", lang))
    span = (f'<span class="elapsed" data-elapsed="{seconds:.1f}" data-unit="{_esc(unit)}" '
            f'data-min="{_esc(minutes)}">{int(seconds)}{_esc(unit)}</span>')
    return template.replace("{t}", span)


def typical_seconds(inference_ms: Iterable[Any]) -> float | None:
    """Median of the API's reported inference times (ms) → seconds; None without data."""
    values = [float(v) for v in inference_ms if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0]
    return statistics.median(values) / 1000 if values else None


def waiting(lang: str, total: int, done: int, elapsed: float, typical: float | None) -> str:
    if total == 1:
        what = _esc(i18n.label("status_making_one", lang))
    else:
        what = _esc(i18n.label("status_making_many", lang, total=total, done=done))
    usual = (i18n.label("status_typical", lang, time=i18n.duration(typical, lang)) if typical is not None
             else i18n.label("status_no_typical", lang))
    return _line("waiting", [what, elapsed_span(elapsed, lang), _esc(usual)])


def done(lang: str, made: int, total: int, seconds: float) -> str:
    took = i18n.duration(seconds, lang)
    text = (i18n.label("status_done_one", lang, time=took) if total == 1
            else i18n.label("status_done_many", lang, made=made, total=total, time=took))
    return _line("done", [_esc(text)])


def done_text(text: str) -> str:
    """A finished state in words of the caller's choosing (escaped)."""
    return _line("done", [_esc(text)])


def stopping(lang: str) -> str:
    return _line("waiting", [_esc(i18n.label("status_stopping", lang))])


def stopped(lang: str, made: int, not_sent: int) -> str:
    return _line("stopped", [_esc(i18n.label("status_stopped", lang, made=made, not_sent=not_sent))])


def failed(lang: str, message: str, *, partial: tuple[int, int] | None = None) -> str:
    """An error that stays until the next action; `partial` = (made, total) when some succeeded."""
    parts = [_esc(message)]
    if partial is not None:
        parts.insert(0, _esc(i18n.label("status_partial", lang, made=partial[0], total=partial[1])))
    return _line("error", parts, alert=True)


def plain(text: str) -> str:
    """A neutral note (e.g. "This makes 4 images"), escaped."""
    return f'<div class="status-line note">{_esc(text)}</div>'
