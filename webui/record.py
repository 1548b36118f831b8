"""The record of one saved image: the one place that declares its fields.

A record travels in four shapes, all derived here from one frozen dataclass:

* the dict that `/generate`, `/history` and the other endpoints answer with, and that
  the PNG's ``generation`` chunk holds as JSON (:meth:`Record.to_dict`);
* the A1111 infotext in the ``parameters`` chunk: each field that appears there says
  its label and position in its ``metadata`` (:data:`INFOTEXT_FIELDS`; the writer and
  the parser sit side by side in :mod:`webui.metadata`);
* a row of the history index (:data:`ROW_COLUMNS`, :meth:`Record.row`);
* the values of the Generate form (:meth:`Record.form_values`).

Adding a field is one line in :class:`Record` (plus a column in the index if it is
filtered on). Values read from files are data from anywhere: :meth:`Record.from_mapping`
keeps only what fits each field's type and carries unknown keys along unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = [
    "FORM_FIELDS", "INFOTEXT_FIELDS", "JSON_ENCODER", "MAX_RATING", "ROW_COLUMNS", "InfotextField", "Record", "form_values",
]

MAX_RATING = 5


def _infotext(position: int, label: str, kind: type) -> dict[str, Any]:
    return {"infotext": (position, label, kind)}


@dataclass(frozen=True)
class Record:
    """A saved image's settings and marks; field order is the JSON key order."""

    id: str = ""
    created_at: str = ""  # ISO 8601 with Z
    user: str | None = field(default=None, metadata=_infotext(5, "User", str))
    prompt: str = ""
    model: str = field(default="", metadata=_infotext(2, "Model", str))
    image_size: str = field(default="", metadata=_infotext(1, "Size", str))
    seed: int | None = field(default=None, metadata=_infotext(0, "Seed", int))
    prompt_enhancement: bool = field(default=False, metadata=_infotext(3, "Prompt enhancement", bool))
    # The API's timings.inference in ms; "1234" in infotext parses back as int 1234.
    inference: float | None = field(default=None, metadata=_infotext(4, "Inference", float))
    file: str = ""  # relative to the outputs folder, "/"-separated
    starred: bool = False
    rating: int = 0  # 0 = not rated, else 1..MAX_RATING
    boards: tuple[str, ...] = ()  # board names, as stored in the PNG
    # Keys this version does not know (A1111's `raw`, `negative_prompt`, a rescue's
    # `saved`/`warning`, fields of a newer version): kept, never interpreted.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -- reading --------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Record:
        """A record from any dict (a PNG's JSON, an index row, form fields).

        Never raises on a mapping: a value of the wrong type becomes the field's default.
        """
        values: dict[str, Any] = {}
        for name, clean in _CLEANERS.items():
            if name in data:
                values[name] = clean(data[name])
        extra = {k: v for k, v in data.items() if k not in _CLEANERS and k != "extra"}
        return cls(**values, extra=extra)

    @classmethod
    def from_json(cls, text: str) -> Record:
        return cls.from_mapping(json.loads(text))

    def with_marks(
        self, *, starred: bool | None = None, rating: int | None = None, boards: tuple[str, ...] | None = None
    ) -> Record:
        """A copy with new marks; None leaves a mark as it is."""
        changes: dict[str, Any] = {}
        if starred is not None:
            changes["starred"] = bool(starred)
        if rating is not None:
            changes["rating"] = _rating(rating)
        if boards is not None:
            changes["boards"] = _boards(boards)
        return replace(self, **changes)

    # -- writing --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready dict: every field, then the unknown keys."""
        out = {name: getattr(self, name) for name in _DICT_FIELDS}
        out["boards"] = list(self.boards)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    def to_json(self) -> str:
        """The ``generation`` chunk's text (compact, UTF-8 kept)."""
        return JSON_ENCODER.encode(self.to_dict())

    def row(self) -> tuple[Any, ...]:
        """The history index's columns (:data:`ROW_COLUMNS`), the JSON record last."""
        return tuple(getattr(self, name) for name in ROW_COLUMNS[:-1]) + (self.to_json(),)

    def form_values(self, seed: int | None = None) -> tuple[str, str, str, bool, int | None]:
        """Prompt, model, size, enhancement, seed: the Generate form's order (and /generate's)."""
        return (self.prompt, self.model, self.image_size, self.prompt_enhancement,
                self.seed if seed is None else seed)


# `json.dumps` with options builds an encoder per call; a save encodes the record twice.
JSON_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DICT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Record) if f.name != "extra")


# -- cleaning values read from anywhere ---------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    """A finite int/float, else None (bools and strings are not timings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too big for a float
        return None
    return value if finite else None


def _rating(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return min(MAX_RATING, max(0, int(value)))


def _boards(value: Any) -> tuple[str, ...]:
    """Distinct non-empty names, in first-seen order."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return ()
    names = (v.strip() for v in value if isinstance(v, str))
    return tuple(dict.fromkeys(n for n in names if n))


_CLEANERS: Mapping[str, Any] = {
    "id": _text,
    "created_at": _text,
    "user": _optional_text,
    "prompt": _text,
    "model": _text,
    "image_size": _text,
    "seed": _int_or_none,
    "prompt_enhancement": lambda v: v if isinstance(v, bool) else False,
    "inference": _number,
    "file": _text,
    "starred": lambda v: v is True,
    "rating": _rating,
    "boards": _boards,
}
assert set(_CLEANERS) == {f.name for f in fields(Record)} - {"extra"}  # one list of fields


@dataclass(frozen=True)
class InfotextField:
    """One record key as it appears in the A1111 infotext params line."""

    key: str  # record key, e.g. "seed"
    label: str  # infotext label, e.g. "Seed"
    kind: type  # int / str / bool / float: how to parse the text back


# Infotext order. `id` is absent (an internal handle, kept in the JSON only); None
# values are left out, so the usual record (user None) gives the five-field line.
INFOTEXT_FIELDS: tuple[InfotextField, ...] = tuple(
    InfotextField(f.name, f.metadata["infotext"][1], f.metadata["infotext"][2])
    for f in sorted((f for f in fields(Record) if "infotext" in f.metadata), key=lambda f: f.metadata["infotext"][0])
)

# Index columns, in row order; the JSON record is always the last one.
ROW_COLUMNS: tuple[str, ...] = (
    "id", "file", "created_at", "prompt", "model", "image_size", "seed", "user", "inference",
    "starred", "rating", "record",
)

FORM_FIELDS: tuple[str, ...] = ("prompt", "model", "image_size", "prompt_enhancement", "seed")


def form_values(data: Mapping[str, Any], seed: int | None = None) -> tuple[str, str, str, bool, int | None]:
    """:meth:`Record.form_values` of any mapping (a record dict, PNG Info's fields)."""
    return Record.from_mapping(data).form_values(seed)
