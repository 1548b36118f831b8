"""The owner ledger of the files the app hands out (`guard.HandedFiles`) on its own: its table in
the history index forgets what Gradio's cache has swept while the app runs, not only at start-up.
Its time comes from an injected clock; nothing sleeps."""

from __future__ import annotations

from pathlib import Path

from webui.guard import HandedFiles
from webui.history import HistoryIndex

T0 = 1_800_000_000.0


def test_the_table_forgets_old_rows_as_rows_are_added_at_most_once_an_interval(tmp_path: Path,
                                                                               closed_after) -> None:
    index = closed_after(HistoryIndex(tmp_path / "index.sqlite3"))
    index.create()
    now = [T0]
    ledger = HandedFiles(index, forget_after=100, trim_every=50, clock=lambda: now[0])
    paths = {name: str((tmp_path / f"{name}.png").resolve()) for name in "ABCDE"}

    def hand(name: str, at: float) -> None:
        now[0] = T0 + at
        ledger.hand([paths[name]], "alice")

    def kept() -> str:
        return "".join(name for name, path in paths.items() if index.handed_to(path))

    hand("A", 0)
    hand("B", 30)  # trimmed at opening 30 s ago: not again yet
    assert kept() == "AB"
    hand("C", 120)  # A is 120 s old: forgotten; B (90 s) stays
    assert kept() == "BC"
    hand("D", 140)  # B is past the limit now, but the last trim was 20 s ago
    assert kept() == "BCD"
    hand("E", 170)  # 50 s since the last trim: B goes
    assert kept() == "CDE"
    assert all(ledger.holds(Path(paths[name]), "alice") for name in "CDE")  # memory is swept by its own rule
