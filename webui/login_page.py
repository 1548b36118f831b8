"""The login page, in the visitor's language (from Accept-Language), for people, not for Gradio.

Gradio 6.31 draws its own login form in the browser (`Login.svelte`): its words come from
Gradio's tables ("凭据不正确", "Incorrect Credentials"), a failed attempt clears the user
name, nothing says whom to ask for an account, and a throttled attempt (429 from
`logins.LoginGuard`) shows nothing at all. This ASGI layer answers `GET /` for a visitor
without a session with our own small page instead. Its form posts to Gradio's own
`/login`, so password checks, throttling and the session cookie stay exactly where they
were; on success the page reloads and Gradio serves the app.

The page holds no data from the request but the language it picked: nothing to inject.
"""

from __future__ import annotations

import html
import json
from typing import Awaitable, Callable

from . import i18n
from .tokens import cookie_user

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
_WORDS = ("login_failed", "login_throttled", "login_offline", "login_empty", "login_wait_s", "login_wait_min")


class LoginPage:
    """ASGI layer: `GET /` without a valid login cookie, on an app with login, gets `page(lang)`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not _wants_login_page(scope):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        lang = i18n.pick_language(headers.get("accept-language"))
        body = page(lang).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"content-language", _html_lang(lang).encode()),
            (b"x-frame-options", b"DENY"),  # a password form is never framed by another site
            (b"content-security-policy", b"frame-ancestors 'none'"),
            (b"vary", b"accept-language, cookie"),
        ]})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def _wants_login_page(scope: dict) -> bool:
    """The app's page, asked for by someone Gradio would show its login form."""
    if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD") or scope.get("path") != "/":
        return False
    gradio = scope.get("app")  # Gradio's App (Starlette sets it before any middleware runs)
    if gradio is None or getattr(gradio, "auth", None) is None:
        return False
    cookie = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"cookie"), "")
    return cookie_user(gradio, cookie) is None


def _html_lang(lang: str) -> str:
    return "zh-CN" if lang == "zh" else "en"


def page(lang: str) -> str:
    """The whole login page: a name and password form, whom to ask, and the messages its script shows."""
    say = lambda key: html.escape(i18n.label(key, lang), quote=True)  # noqa: E731
    words = {key: i18n.label(key, lang) for key in _WORDS}
    # </script> can't appear in JSON of our own words, but escape "<" anyway
    words_json = json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")
    heading = html.escape(i18n.label("heading", lang).lstrip("# "))
    return f"""<!doctype html>
<html lang="{_html_lang(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{say("login_title")} · {heading}</title>
<style>
  :root {{ color-scheme: light dark; --accent: #6366f1; --error: #b91c1c; }}
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
    font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
    background: #f8fafc; color: #1f2937; }}
  main {{ width: min(26rem, calc(100vw - 2rem)); background: #fff; border: 1px solid #e5e7eb; border-radius: 12px;
    padding: 1.5rem 1.5rem 1.25rem; box-shadow: 0 4px 16px rgba(0,0,0,0.06); box-sizing: border-box; }}
  h1 {{ font-size: 1.35rem; margin: 0 0 0.25rem; }}
  h2 {{ font-size: 1.05rem; margin: 0 0 0.75rem; font-weight: 500; color: #4b5563; }}
  label {{ display: block; font-weight: 600; margin: 0.75rem 0 0.25rem; }}
  input {{ width: 100%; box-sizing: border-box; font: inherit; padding: 0.55rem 0.7rem; border: 1px solid #d1d5db;
    border-radius: 8px; }}
  input:focus {{ outline: 2px solid var(--accent); outline-offset: 0; border-color: var(--accent); }}
  button {{ width: 100%; margin-top: 1.1rem; font: inherit; font-weight: 600; padding: 0.65rem; border: 0;
    border-radius: 8px; background: var(--accent); color: #fff; cursor: pointer; }}
  button[disabled] {{ opacity: 0.6; cursor: progress; }}
  #login-message {{ margin: 0.9rem 0 0; padding: 0.55rem 0.75rem; border-radius: 8px; color: var(--error);
    background: #fef2f2; border: 1px solid #fca5a5; }}
  #login-message:empty {{ display: none; }}
  .help {{ margin: 1rem 0 0; color: #6b7280; font-size: 0.92rem; }}
  @media (prefers-color-scheme: dark) {{
    body {{ background: #0b0f19; color: #e5e7eb; }} main {{ background: #111827; border-color: #374151; }}
    h2, .help {{ color: #9ca3af; }} input {{ background: #1f2937; color: inherit; border-color: #4b5563; }}
    #login-message {{ background: #3b1212; color: #fecaca; border-color: #7f1d1d; }}
  }}
</style>
</head>
<body>
<main>
  <h1>{heading}</h1>
  <h2>{say("login_intro")}</h2>
  <form id="login-form" method="post" action="login" autocomplete="on">
    <label for="login-name">{say("login_name")}</label>
    <input id="login-name" name="username" autocomplete="username" autocapitalize="none" spellcheck="false"
           required autofocus>
    <label for="login-password">{say("login_password")}</label>
    <input id="login-password" name="password" type="password" autocomplete="current-password" required>
    <p id="login-message" role="alert" aria-live="assertive"></p>
    <button id="login-submit" type="submit">{say("login_button")}</button>
  </form>
  <p class="help" id="login-help">{say("login_help")}</p>
</main>
<script>
(() => {{
  const words = {words_json};
  const form = document.getElementById("login-form"), name = document.getElementById("login-name"),
        password = document.getElementById("login-password"), message = document.getElementById("login-message"),
        button = document.getElementById("login-submit");
  const wait = (s) => s < 90 ? words.login_wait_s.replace("{{n}}", s)
                             : words.login_wait_min.replace("{{n}}", Math.round(s / 60));
  form.addEventListener("submit", async (event) => {{
    event.preventDefault();
    if (!name.value.trim() || !password.value) {{ message.textContent = words.login_empty; return; }}
    button.disabled = true;
    message.textContent = "";
    try {{
      const answer = await fetch("login", {{method: "POST", body: new FormData(form), credentials: "same-origin"}});
      if (answer.ok) {{ location.reload(); return; }}
      if (answer.status === 429) {{
        const s = parseInt(answer.headers.get("retry-after") || "30", 10);
        message.textContent = words.login_throttled.replace("{{wait}}", wait(s));
      }} else {{
        message.textContent = words.login_failed;
      }}
      password.value = "";  // the name stays: most often only the password was mistyped
      password.focus();
    }} catch (error) {{
      message.textContent = words.login_offline;
    }} finally {{
      button.disabled = false;
    }}
  }});
}})();
</script>
</body>
</html>
"""
