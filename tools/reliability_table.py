"""Write the README's Reliability table from the message catalogue and the tests that prove each row.

    python tools/reliability_table.py          # rewrite the table in README.md
    python tools/reliability_table.py --check  # exit 1 if README.md is out of date

`tests/test_docs.py` runs the check, and also that every test named here exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import readme_table  # noqa: E402
from tools.readme_table import cell, proved_by  # noqa: E402
from webui import i18n  # noqa: E402

NAME = "reliability"

F = "tests/test_faults.py"
R = "tests/test_resilience.py"
S = "tests/test_service.py"
ST = "tests/test_storage.py"

# (what goes wrong, what the user sees, test file, test name)
ROWS: list[tuple[str, str, str, str]] = [
    ("API answers 400", i18n.message("bad_request", detail="{the API's reason}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API answers 401", i18n.message("auth"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API answers 404 (unknown model)", i18n.message("unknown_model", model="{model}"), F, "test_unknown_model_message_names_the_model"),
    ("API answers 429, short `Retry-After`", "nothing: retried after the wait, the picture arrives", F, "test_rate_limit_with_short_retry_after_is_retried_transparently"),
    ("API answers 429, `Retry-After` beyond the 30 s budget", i18n.message("rate_limited", seconds="{N}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API answers 429 with no `Retry-After`, every time", i18n.message("rate_limited", seconds=10) + " (after 3 retries)", F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API answers 503 once", "nothing: retried, the picture arrives", F, "test_503_is_retried_then_succeeds"),
    ("API answers 500, 503 (every time), 504", i18n.message("unavailable", status="{status}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API answer is not JSON / has no `images` / an empty list", i18n.message("bad_response", detail="no image in the answer"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("API does not answer within `--timeout`", i18n.message("timeout", seconds="{N}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Connection refused", i18n.message("connection", detail="{host}: connection refused"), F, "test_connection_refused_is_a_plain_message"),
    ("Image URL answers 403 or 404 (expired)", i18n.message("expired"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Image host does not answer within `--timeout`", i18n.message("timeout", seconds="{N}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Image body truncated, or HTML", i18n.message("bad_image", detail="{what was wrong}"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Image larger than the 40 MB cap", i18n.message("bad_image", detail="the image is too large"), F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Image is a decompression bomb", i18n.message("bad_image", detail="{too many pixels}") + " (refused before decoding)", F, "test_fault_gives_a_clear_message_and_leaves_nothing"),
    ("Image is a JPEG or WebP", "nothing: converted once to PNG and saved", F, "test_jpeg_and_webp_answers_are_saved_as_png"),
    ("Outputs folder not writable", "the picture, downloadable, and: " + i18n.message("save_failed", folder="{folder}", detail="{reason}"), R, "test_unwritable_outputs_still_hand_over_the_image_and_name_the_folder"),
    ("Disk full", "the same: the picture is still handed over, the message names the folder", R, "test_full_disk_still_hands_over_the_image"),
    ("App killed (`kill -9`) while saving", "on restart: no half-written PNG, the index matches the files", R, "test_kill_9_while_saving_leaves_no_corrupt_image_and_a_matching_index"),
    ("History index deleted", "nothing: the next start rebuilds it from the PNGs", ST, "test_deleted_index_is_rebuilt_from_png_chunks"),
    ("History index corrupted", "nothing: moved aside, rebuilt from the PNGs", ST, "test_corrupt_index_is_moved_aside_and_rebuilt"),
    ("Two app processes on one outputs folder", "nothing: no file overwritten, no row lost", R, "test_two_apps_on_one_outputs_folder_lose_nothing"),
    ("50 generations at once", "a queue position while waiting; all 50 saved, `--concurrency` held", R, "test_fifty_at_once_all_succeed_within_the_concurrency_limit"),
    ("Bad input (empty prompt, seed, size)", i18n.message("empty_prompt") + " — no API call", "tests/test_app.py", "test_failures_are_clear_errors_and_leave_nothing_behind"),
]


def render() -> str:
    rows = ([fault, cell(seen), proved_by(path, test)] for fault, seen, path, test in ROWS)
    return readme_table.render(NAME, "| what goes wrong | what the user sees (also in Chinese) | proved by |", rows)


def updated(readme: str) -> str:
    return readme_table.updated(readme, NAME, render())


if __name__ == "__main__":
    sys.exit(readme_table.main(NAME, render, "tools/reliability_table.py", __doc__.splitlines()[0]))
