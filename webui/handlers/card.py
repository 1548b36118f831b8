"""A record as a settings card a person reads: prompt, model, size with its shape, seed,
enhancement, who and when (in the visitor's time zone). The raw record stays behind a
"technical details" fold on the page.

Everything from a record is data: escaped here, never rendered as Markdown.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import i18n


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def size_label(size: object, lang: str) -> str:
    """"768 × 512 · landscape" for the six sizes; "W × H" for anything else."""
    text = str(size or "")
    key = f"size_{text}"
    if key in i18n.LABELS["en"]:
        return i18n.label(key, lang)
    return text.replace("x", " × ") if text else "—"


def local_time(stamp: object, tz: str | None) -> str:
    """An ISO 8601 UTC stamp in the visitor's zone as "2026-11-25 14:02"; "" if unreadable."""
    if not isinstance(stamp, str) or not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        zone = ZoneInfo(tz) if tz else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    suffix = "" if tz and zone is not timezone.utc else " UTC"
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}{suffix}"


def made_in(inference_ms: object, lang: str) -> str:
    """"made in 1.5 s" from the API's inference time in ms ("" when not reported)."""
    if isinstance(inference_ms, bool) or not isinstance(inference_ms, (int, float)) or inference_ms < 0:
        return ""
    return i18n.label("made_in", lang, time=i18n.duration(inference_ms / 1000, lang))


def _copy_button(value: str, lang: str) -> str:
    title = _esc(i18n.label("copy", lang))
    return f'<button type="button" class="copy" data-copy="{_esc(value)}" title="{title}">{title}</button>'


def settings_card(record: Mapping[str, Any] | None, lang: str, tz: str | None = None,
                  extra: Mapping[str, str] | None = None) -> str:
    """The card's HTML ("" without a record). `extra` adds rows (label → text) at the end."""
    if not record:
        return ""
    rows: list[tuple[str, str]] = []
    prompt = str(record.get("prompt") or "")
    rows.append((i18n.label("prompt", lang),
                 f'<span class="value prompt-text">{_esc(prompt)}</span> {_copy_button(prompt, lang)}'))
    if record.get("model"):
        rows.append((i18n.label("model", lang), f'<span class="value">{_esc(record["model"])}</span>'))
    if record.get("image_size"):
        rows.append((i18n.label("card_size", lang), f'<span class="value">{_esc(size_label(record["image_size"], lang))}</span>'))
    seed = record.get("seed")
    if seed is not None:
        rows.append((i18n.label("seed", lang), f'<span class="value">{_esc(seed)}</span> {_copy_button(str(seed), lang)}'))
    if "prompt_enhancement" in record:
        on = bool(record.get("prompt_enhancement"))
        rows.append((i18n.label("enhance", lang), _esc(i18n.label("yes" if on else "no", lang))))
    inference = record.get("inference")
    if isinstance(inference, (int, float)) and made_in(inference, lang):  # label "made in", value the time
        rows.append((i18n.label("card_time", lang), _esc(i18n.duration(float(inference) / 1000, lang))))
    if record.get("user"):
        rows.append((i18n.label("card_user", lang), _esc(record["user"])))
    when = local_time(record.get("created_at"), tz)
    if when:
        rows.append((i18n.label("card_when", lang), _esc(when)))
    for name, text in (extra or {}).items():
        rows.append((name, _esc(text)))
    body = "".join(f"<dt>{_esc(name)}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<dl class="settings-card">{body}</dl>'
