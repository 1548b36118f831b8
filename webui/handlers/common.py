"""What every handler needs: the visitor's language and name, and errors as toasts."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

import gradio as gr

from .. import errors, i18n
from ..errors import AppError, render
from ..tokens import request_user


def language(request: gr.Request | None) -> str:
    """The visitor's language from their browser's Accept-Language (English otherwise)."""
    headers = getattr(request, "headers", None) or {}
    try:
        value = headers.get("accept-language")
    except Exception:  # headers may be an odd mapping in some Gradio paths
        value = None
    return i18n.pick_language(value)


def user_of(request: gr.Request | None) -> str | None:
    """The logged-in user's name, or None without login (see `tokens.request_user`)."""
    return request_user(request)


def fail(text: str, lang: str = i18n.FALLBACK) -> gr.Error:
    """A toast the user can act on; no traceback in the log."""
    return gr.Error(text, title=i18n.label("error_title", lang), print_exception=False)


def refuse(code: str, lang: str = i18n.FALLBACK, **params: Any) -> gr.Error:
    """A refusal decided here at the edge (not found, not yours…), worded by `errors.render`."""
    return fail(render(AppError(code, **params), lang), lang)


def explain(error: BaseException, lang: str, tz: str | None = None, operator: bool = False) -> str:
    """`errors.render`'s message, and for whoever runs the app (no login, or the admin)
    the setup steps that only they can take (`<code>_fix`: keys, flags, folders), which
    would mean nothing to a teammate."""
    text = errors.render(error, lang, tz)
    fix_code = f"{getattr(error, 'code', '')}_fix"
    if operator and isinstance(error, errors.AppError) and fix_code in i18n.MESSAGES["en"]:
        text += " " + i18n.message(fix_code, lang, **{k: str(v) for k, v in error.params.items()})
    return text


def file_url(path: str) -> str:
    """A served file's URL for HTML we build, escaped for an attribute: Gradio's file route,
    relative to the page, so it resolves under whatever path the app is mounted at (a proxy's
    prefix, `root_path`), and the path percent-encoded as Gradio encodes its own (`encode_file_path`:
    a `#`, `?` or `%` in a file name stays part of it)."""
    return html.escape("gradio_api/file=" + quote(path, safe="/"), quote=True)


def as_text(value: str) -> str:
    """Text for a Markdown component that must show as typed (a user name is data, not markup)."""
    escaped = html.escape(value, quote=False)
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~" else c for c in escaped)


def whoami(request: gr.Request) -> str:
    """"Signed in as …" for the header (empty without login)."""
    user = user_of(request)
    return i18n.label("signed_in_as", language(request), user=as_text(user)) if user else ""


def caption(record: dict[str, Any], width: int = 80) -> str:
    """A gallery caption: the prompt on one line, cut to `width` characters."""
    prompt = str(record.get("prompt", "")).replace("\n", " ")
    return (prompt[:width] + "…") if len(prompt) > width else prompt
