"""Errors carry data; `errors.render` is the one place that words them, for page and CLI."""

from __future__ import annotations

import html
import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import gradio as gr
import pytest

from webui import cli, errors, i18n
from webui.errors import (
    AppError,
    DailyLimitError,
    InvalidInputError,
    UnknownModelError,
    render,
)
from webui.generator import Generator, validate
from webui.handlers.generate import GenerateHandlers
from webui.storage import Storage

INTERNAL_EN = "internal error (details in the log)"
INTERNAL_ZH = "内部错误（详情见日志）"


def _every_error_class() -> list[type[AppError]]:
    found, todo = [], [AppError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_code_has_a_message_in_both_languages() -> None:
    codes = {cls.code for cls in _every_error_class()}
    assert {"internal", "auth", "daily_limit", "save_failed"} <= codes
    for code in codes:
        for lang in i18n.LANGUAGES:
            assert code in i18n.MESSAGES[lang], (code, lang)


def test_every_error_class_is_drawn_in_the_module_docstring() -> None:
    for cls in _every_error_class():
        if cls.__module__ == "webui.errors":
            assert f" {cls.__name__}" in (errors.__doc__ or ""), cls.__name__


def test_an_error_holds_data_not_words() -> None:
    error = UnknownModelError("no-such-model")
    assert error.code == "unknown_model" and error.params["model"] == "no-such-model"
    assert "does not exist (404)" not in str(error) + repr(error)
    assert "“no-such-model” does not exist (404)" in render(error, "en")
    assert "模型“no-such-model”不存在" in render(error, "zh")


def test_a_bug_of_ours_is_an_internal_error_with_its_traceback_in_the_log(caplog) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        bug = exc
    with caplog.at_level(logging.ERROR, logger="webui.errors"):
        en, zh = render(bug, "en"), render(bug, "zh")
    assert INTERNAL_EN in en and INTERNAL_ZH in zh
    assert "KeyError" not in en + zh and "does not understand" not in en
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and logged[0].exc_info[0] is KeyError


def test_a_time_is_shown_in_the_visitors_zone() -> None:
    error = DailyLimitError(3, 3, datetime(2026, 11, 26, tzinfo=UTC))
    assert "2026-11-26 08:00 (Asia/Shanghai)" in render(error, "en", "Asia/Shanghai")
    assert "2026-11-26 00:00 (UTC)" in render(error, "zh", "Not/AZone")
    assert "2026-11-26 00:00 (UTC)" in render(error, "en")


class _BuggyService:
    """A service whose answer trips a bug of ours (the KeyError of issue 12)."""

    def generate(self, params):
        return {}["images"]

    def close(self) -> None:
        pass


@pytest.fixture
def handlers(tmp_path: Path):
    storage = Storage(tmp_path / "outputs").open()
    try:
        yield GenerateHandlers(Generator(_BuggyService(), storage), storage, storage.index)  # type: ignore[arg-type]
    finally:
        storage.close()


def test_the_page_says_internal_error_for_a_bug_not_the_apis_fault(handlers, caplog) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error) as caught:
        handlers.generate("a cat", "FLUX.1-schnell", "1024x1024", False, 1, request=None)
    assert INTERNAL_EN in caught.value.message and "KeyError" not in caught.value.message
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_a_batch_that_hits_a_bug_says_internal_error(handlers, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        outputs = list(handlers.run(2, False, None, None, prompt="a cat", model="FLUX.1-schnell",
                                    image_size="1024x1024", prompt_enhancement=False, seed=1))
    status_line = outputs[-1][5]  # the page says it in #status, where it stays (issue 11)
    assert INTERNAL_EN in html.unescape(status_line) and "KeyError" not in status_line
    assert sum(1 for r in caplog.records if r.exc_info) == 2  # each failed image's traceback


def test_the_command_line_words_errors_with_the_same_renderer(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Generator, "generate", lambda self, params, user=None: {}["images"])
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["generate", "a cat", "--demo", "--outputs", str(tmp_path / "out")], out, err)
    assert code == 1 and f"error: {render(KeyError(), 'en')}" in err.getvalue()
    assert INTERNAL_EN in err.getvalue()

    err = io.StringIO()
    assert cli.main(["generate", "   ", "--outputs", str(tmp_path / "out")], out, err) == 2
    with pytest.raises(InvalidInputError) as caught:
        validate("   ", "FLUX.1-schnell", "1024x1024", False, -1)
    assert err.getvalue() == f"error: {render(caught.value, 'en')}\n"


def test_a_refusal_at_the_edge_is_worded_by_the_same_renderer() -> None:
    from webui.handlers.common import refuse

    toast = refuse("not_a_png", "zh", detail="not a PNG")
    assert toast.message == render(AppError("not_a_png", detail="not a PNG"), "zh")
    assert "无法读取该文件" in toast.message
