"""The History grid's picks and search helpers, as plain data and safe HTML.

The browser keeps which thumbnails are picked (a small script, `ui.picking`) and hands
the server a JSON line: `{"ids": [...], "all": false}`, or `"all": true` for "every
image this filter finds". Nothing here trusts it: the ids are checked one by one and
"all" is the visitor's own filter, run under their rules, when the action happens.

The chips write `/history` query tokens (interface.md) into the search box: the script
reports which chip was clicked, `edit_query` rewrites the box.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import i18n
from ..query import KEYS
from . import card

MAX_PICKED = 10_000  # ids a browser may send at once; "all in this filter" has no such list


@dataclass(frozen=True)
class Picked:
    """What the visitor picked: these ids, or every image of the filter (`all`)."""

    ids: tuple[str, ...] = ()
    all: bool = False

    @property
    def empty(self) -> bool:
        return not self.all and not self.ids


def read_picked(text: str | None) -> Picked:
    """The browser's JSON line; anything malformed is "nothing picked"."""
    try:
        data = json.loads(text or "{}")
    except (TypeError, ValueError):
        return Picked()
    if not isinstance(data, dict):
        return Picked()
    ids = data.get("ids")
    ids = [str(i) for i in ids if isinstance(i, str) and i] if isinstance(ids, list) else []
    return Picked(tuple(dict.fromkeys(ids))[:MAX_PICKED], data.get("all") is True)


def quoted(value: str) -> str:
    """A token value as the query language reads it back: quoted when it holds a space or quote."""
    if value and not re.search(r'[\s"\\]', value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_query(query: str, model: str, size: str, mine: bool, by_user: str, viewer: str | None) -> str:
    """The History tab's search box and dropdowns as one `/history` query.

    "Only my images" wins over "Made by", as in the grid's own listing.
    """
    tokens = [query or ""]
    owner = viewer if mine and viewer else by_user
    for key, value in (("model", model), ("size", size), ("user", owner)):
        if value:
            tokens.append(f"{key}:{quoted(str(value))}")
    return " ".join(t for t in tokens if t)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def picks_bar(picked: Picked, total: int, lang: str) -> str:
    """"3 selected · Select all 57 in this filter · Clear selection", or a hint when none.

    Its buttons carry `data-picks`; the page's script acts on them (no round trip).
    """
    def button(action: str, key: str, **params: object) -> str:
        return f'<button type="button" class="picks-button" data-picks="{action}">{_esc(i18n.label(key, lang, **params))}</button>'

    if picked.all:
        parts = [f'<strong>{_esc(i18n.label("picks_all_filter", lang, n=total))}</strong>',
                 button("clear", "pick_clear")]
    elif picked.ids:
        parts = [f'<strong>{_esc(i18n.label("picks_count", lang, n=len(picked.ids)))}</strong>']
        if total > len(picked.ids):
            parts.append(button("all", "pick_all", n=total))
        parts.append(button("clear", "pick_clear"))
    elif total:
        hint = (f'<span class="picks-hint" title="{_esc(i18n.label("picks_keys", lang))}">'
                f'<span class="mouse-hint">{_esc(i18n.label("picks_none", lang))}</span>'
                f'<span class="touch-hint">{_esc(i18n.label("picks_touch", lang))}</span></span>')
        return f'<div class="picks-bar" role="status" aria-live="polite">{button("all", "pick_all", n=total)} {hint}</div>'
    else:
        return ""
    return f'<div class="picks-bar" role="status" aria-live="polite">{" · ".join(parts)}</div>'


# -- marks on the grid's thumbnails ----------------------------------------------------------

def marks(record: dict[str, Any], lang: str) -> tuple[str, str]:
    """(badge, words) for a thumbnail: "★ · 4/5" drawn over its corner, and "starred, rated
    4 of 5" for screen readers and the caption; ("", "") when it has neither mark."""
    starred, rating = bool(record.get("starred")), int(record.get("rating") or 0)
    badge = " · ".join(part for part in ("★" if starred else "", f"{rating}/5" if rating else "") if part)
    words = ", ".join(part for part in (i18n.label("mark_starred", lang) if starred else "",
                                        i18n.label("mark_rated", lang, n=rating) if rating else "") if part)
    return badge, words


def page_data(records: list[dict[str, Any]], lang: str) -> str:
    """The page's ids and marks as JSON for the picking script (`#history-page-ids`), which
    keeps the picks by id and paints each thumbnail's badge again whenever Gradio redraws it."""
    shown = [marks(r, lang) for r in records]
    return json.dumps({"ids": [r["id"] for r in records], "badges": [b for b, _ in shown],
                       "words": [w for _, w in shown]}, ensure_ascii=False)


def dock_count(picked: Picked, total: int, lang: str) -> str:
    """The docked bulk bar's start: "3 selected ✕" (the ✕ clears, through the page's script)."""
    if picked.empty:
        return ""
    said = i18n.label("picks_all_filter", lang, n=total) if picked.all else i18n.label("picks_count", lang,
                                                                                          n=len(picked.ids))
    clear = _esc(i18n.label("pick_clear", lang))
    return (f'<span class="bulk-count">{_esc(said)} <button type="button" class="picks-button" data-picks="clear" '
            f'aria-label="{clear}" title="{clear}">✕</button></span>')


# -- query chips ----------------------------------------------------------------------------

# key:value, key:"quoted value", optionally excluded with "-": the tokens of `query.py`.
_TOKEN = re.compile(r'(?<!\S)-?(?:' + "|".join(KEYS) + r'):(?:"(?:[^"\\]|\\.)*"|\S+)(?!\S)', re.IGNORECASE)


def active_tokens(query: str) -> list[str]:
    """The filter tokens typed in the search box, as typed (each gets a chip to remove it)."""
    return [m[0] for m in _TOKEN.finditer(query or "")]


def chip_action(text: str | None) -> dict[str, str]:
    """A chip click as the page's script reports it: {"add"|"remove"|"run"|"forget": value}."""
    try:
        data = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in ("add", "remove", "run", "forget") and isinstance(v, str)}


def edit_query(query: str, action: dict[str, str]) -> str:
    """The search box after a chip: a token added at the end, every copy of one taken out
    (whole tokens only: removing `board:a` leaves `board:ab`), or a saved search run."""
    query = query or ""
    if "run" in action:
        return action["run"]
    if "add" in action:
        return " ".join(f"{query} {action['add']}".split())
    if "remove" in action:
        token = re.escape(action["remove"])
        return " ".join(re.sub(rf"(?<!\S){token}(?!\S)", " ", query).split())
    return query


def today(tz: str | None) -> date:
    """Today in the visitor's time zone (their browser's), UTC when unknown."""
    try:
        zone: Any = ZoneInfo(tz) if tz else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return datetime.now(zone).date()


@dataclass(frozen=True)
class Choices:
    """What the visitor may filter by: their boards, models, sizes, and users where allowed."""

    boards: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


CHIPS_INLINE = 3  # a kind with more values than this (boards, models, sizes, users) is one menu chip
MENU_FIND_AT = 8  # a menu this long gets a box to find a value by typing


def _chip_menu(key: str, buttons: list[str], lang: str) -> str:
    """A chip that opens every value of one kind in a small scrolling panel (a native
    <details>: keyboard and screen readers know it; the page's script closes it on Esc or
    a click elsewhere and filters it as one types in the find box)."""
    title = _esc(i18n.label(f"chip_menu_{key}", lang, n=len(buttons)))
    name = title.replace("▾", "").strip()
    find = ""
    if len(buttons) > MENU_FIND_AT:
        hint = _esc(i18n.label("chip_menu_find", lang))
        find = f'<input type="search" class="chip-menu-find" placeholder="{hint}" aria-label="{hint}">'
    return (f'<details class="chip-menu" data-kind="{_esc(key)}"><summary class="chip">{title}</summary>'
            f'<div class="chip-menu-panel" role="group" aria-label="{name}">{find}'
            f'<div class="chip-menu-list">{"".join(buttons)}</div></div></details>')


def chips(query: str, choices: Choices, saved: list[dict[str, str]], lang: str, tz: str | None) -> str:
    """Chips that add a token, chips that remove an active one, and the saved searches.

    Each button carries its token in `data-add` / `data-remove` / `data-run` / `data-forget`,
    which the page's script reports back; labels are escaped text, tokens escaped attributes.
    """
    active = active_tokens(query)
    typed = {t.casefold() for t in active}
    day = today(tz)
    offers: list[tuple[str, str]] = [
        ("is:starred", i18n.label("chip_starred", lang)),
        ("rating:>=4", i18n.label("chip_rating", lang)),
        (f"after:{day.isoformat()}", i18n.label("chip_today", lang)),
        (f"after:{(day - timedelta(days=6)).isoformat()}", i18n.label("chip_week", lang)),
        (f"before:{(day - timedelta(days=29)).isoformat()}", i18n.label("chip_older", lang)),
    ]
    kinds: list[tuple[str, list[tuple[str, str]]]] = []
    for key, label, values in (("board", "chip_board", choices.boards), ("model", "chip_model", choices.models),
                               ("size", "chip_size", choices.sizes), ("user", "chip_user", choices.users)):
        # sizes as everywhere else ("768 × 512 · landscape"); the token stays as typed
        kinds.append((key, [(f"{key}:{quoted(v)}",
                             i18n.label(label, lang, name=card.size_label(v, lang) if key == "size" else v))
                            for v in values]))
    named = {token.casefold(): label for token, label in offers}  # an active token reads like its chip
    named.update((token.casefold(), label) for _, kind in kinds for token, label in kind)
    rows = []
    if active:
        removes = "".join(
            f'<button type="button" class="chip active" data-remove="{_esc(t)}" '
            f'aria-label="{_esc(i18n.label("chip_remove", lang, token=t))}" title="{_esc(t)}">'
            f'{_esc(named.get(t.casefold(), t))} <span aria-hidden="true">×</span></button>'
            for t in active
        )
        rows.append(f'<div class="chip-row"><span class="chip-title">{_esc(i18n.label("chips_active", lang))}</span>{removes}</div>')
    def add(token: str, label: str) -> str:
        return f'<button type="button" class="chip" data-add="{_esc(token)}" title="{_esc(token)}">{_esc(label)}</button>'

    adds = "".join(add(token, label) for token, label in offers if token.casefold() not in typed)
    for key, kind in kinds:
        left = [(token, label) for token, label in kind if token.casefold() not in typed]
        if len(left) <= CHIPS_INLINE:
            adds += "".join(add(token, label) for token, label in left)
        else:  # one chip opens the whole list (scrolling, with a find box when long): the row stays one line
            adds += _chip_menu(key, [add(token, label) for token, label in left], lang)
    rows.append(f'<div class="chip-row"><span class="chip-title">{_esc(i18n.label("chips_add", lang))}</span>{adds}</div>')
    if saved:
        runs = "".join(
            f'<span class="saved-search"><button type="button" class="chip saved" data-run="{_esc(s["query"])}" '
            f'title="{_esc(s["query"])}">{_esc(s["name"])}</button><button type="button" class="chip forget" '
            f'data-forget="{_esc(s["name"])}" aria-label="{_esc(i18n.label("search_forget", lang, name=s["name"]))}">'
            f'×</button></span>'
            for s in saved
        )
        rows.append(f'<div class="chip-row"><span class="chip-title">{_esc(i18n.label("saved_searches", lang))}</span>{runs}</div>')
    return f'<div class="query-chips">{"".join(rows)}</div>'
