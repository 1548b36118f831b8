"""No key or file leaks, logins that hold, prompt text treated as data, a parser that survives fuzzing."""

from __future__ import annotations

import io
import itertools
import json
from typing import Iterator

import pytest
import requests
from gradio_client.exceptions import AppError, AuthenticationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from webui import metadata
from webui.db import journal_files
from webui.errors import ImageApiError, render
from webui.service import GenerationParams, ImageService

from .conftest import TEST_KEY
from .security import attack
from .support.apps import ServedApp, api_client, serve_app
from .support.cpu import cpu_seconds
from .support.fake_api import FakeApi
from .support.logs import debug_logs

PASSWORD = "correct-horse-battery-staple-77"


# --------------------------------------------------------------------------- the key


@attack(
    "Leaks",
    "Run the service with requests and urllib3 logging at DEBUG through 401, 429, 503, an expired link "
    "and a non-JSON answer",
    "the key is in no log line and no error message",
)
def test_key_stays_out_of_debug_logs_and_errors(backend: FakeApi) -> None:
    """Even with requests/urllib3 logging at DEBUG, no log line or error holds the key."""
    with debug_logs() as stream:
        service = ImageService(backend.base_url, TEST_KEY, timeout=2, max_retry_wait=1)
        params = GenerationParams("leak check", "FLUX.1-schnell", "768x512", False, 1)
        service.generate(params)
        texts = []
        for knobs in ({"status": 401}, {"status": 429, "retry_after": 0, "count": 1}, {"image": "expired"},
                      {"status": 503, "retry_after": 9}, {"body": "not_json"}):
            backend.reset()
            backend.set_faults(**knobs)
            try:
                service.generate(params)
            except ImageApiError as exc:
                texts += [str(exc), repr(exc), render(exc, "en"), render(exc, "zh")]
        service.close()
    log_text = stream.getvalue()
    assert "images/generations" in log_text  # the debug log really was on
    assert TEST_KEY not in log_text
    assert all(TEST_KEY not in t for t in texts)


# --------------------------------------------------------------------------- files


TRAVERSALS = [
    "{index}",
    "{outputs}/../.env",
    "{outputs}/%2e%2e/.env",
    "{cwd}/.env",
    "/etc/passwd",
    "../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%252e%252e/%252e%252e/etc/passwd",
    "....//....//etc/passwd",
    "{outputs}/../../../../etc/passwd",
    "{journal}",  # the index's -wal, -shm and -journal
    "//etc/passwd",
    "\\..\\..\\etc\\passwd",
]


@attack(
    "Files",
    "`GET` `.env`, `/etc/passwd`, the history index and its `-wal` through `file=`, `file/`, `static/` "
    "and `assets/`, with `..`, `%2e%2e`, double encoding, `//` and backslashes",
    "never served",
)
@pytest.mark.parametrize("template", TRAVERSALS)
def test_nothing_outside_outputs_and_cache_is_served(demo_app: ServedApp, template: str) -> None:
    (demo_app.cwd / ".env").write_text(f"YUNYX_API_KEY={TEST_KEY}\n")
    index = demo_app.app.storage.index.path.resolve()
    paths = {template.format(index=index, journal=journal, outputs=demo_app.outputs.resolve(), cwd=demo_app.cwd.resolve())
             for journal in journal_files(index)}
    for prefix, path in itertools.product(("gradio_api/file=", "file=", "gradio_api/file/", "static/", "assets/"),
                                          sorted(paths)):
        url = demo_app.url + prefix + path
        response = requests.get(url, timeout=10)
        body = response.content
        assert TEST_KEY.encode() not in body, url
        assert b"root:x:0:0" not in body, url
        assert b"SQLite format 3" not in body, url


def test_a_saved_image_is_served_but_not_its_folder_neighbours(demo_app: ServedApp) -> None:
    client = api_client(demo_app.url)
    _, record = client.predict("served", "FLUX.1-schnell", "768x512", False, 8, api_name="/generate")
    image = demo_app.outputs.resolve() / record["file"]
    ok = requests.get(f"{demo_app.url}gradio_api/file={image}", timeout=10)
    assert ok.status_code == 200 and ok.content[:8] == metadata.PNG_SIGNATURE


# --------------------------------------------------------------------------- logins


@pytest.fixture(scope="module")
def auth_app(tmp_path_factory) -> Iterator[ServedApp]:
    app = serve_app(tmp_path_factory.mktemp("auth"), "--auth", f"ann:{PASSWORD}")
    yield app
    app.stop()


@attack(
    "Logins",
    "Open the config or `/gradio_api/info`, or call `/generate`, without logging in or with a wrong password",
    "401 or 403; nothing runs",
)
def test_auth_protects_page_config_and_api(auth_app: ServedApp) -> None:
    assert requests.get(auth_app.url + "config", timeout=10).status_code in (401, 403)
    info = requests.get(auth_app.url + "gradio_api/info", timeout=10)
    assert info.status_code in (401, 403)
    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        api_client(auth_app.url).predict("x", "FLUX.1-schnell", "768x512", False, 1, api_name="/generate")
    with pytest.raises(ValueError, match="Could not login"):
        api_client(auth_app.url, auth=("ann", "wrong-password"))
    client = api_client(auth_app.url, auth=("ann", PASSWORD))
    _, record = client.predict("logged in", "FLUX.1-schnell", "768x512", False, 1, api_name="/generate")
    assert record["seed"] == 1


@attack("Logins", "Log in with a wrong password", "refused; the log names the user, never the password")
def test_wrong_password_is_refused_and_logged_without_the_password(auth_app: ServedApp) -> None:
    response = requests.post(auth_app.url + "login", data={"username": "ann", "password": "guess-123-xyz"}, timeout=10)
    assert response.status_code in (400, 401)
    assert "access-token" not in response.cookies
    good = requests.post(auth_app.url + "login", data={"username": "ann", "password": PASSWORD}, timeout=10)
    assert good.status_code == 200
    log = auth_app.log()
    assert "guess-123-xyz" not in log and PASSWORD not in log
    assert "Refused a login" in log


# --------------------------------------------------------------------------- prompts as data


@pytest.mark.parametrize(
    "prompt",
    [
        "../../x",
        "..\\..\\x /etc/passwd",
        "nul\x00byte",
        "\u202eRTL override \u200f marks",
        "emoji 🎨🖼️👩‍🎨",
        "<img src=x onerror=alert(1)><script>alert(2)</script>",
        "$(rm -rf /) `id` ; | & {{7*7}} %s %n",
    ],
)
@attack(
    "Input",
    "Prompts holding `../`, NUL, right-to-left overrides, HTML and script, shell syntax",
    "stored as text; the file name is ASCII, inside the outputs folder",
)
def test_hostile_prompts_become_safe_files_inside_outputs(demo_app: ServedApp, prompt: str) -> None:
    client = api_client(demo_app.url)
    path, record = client.predict(prompt, "FLUX.1-schnell", "768x512", False, 3, api_name="/generate")
    saved = (demo_app.outputs / record["file"]).resolve()
    assert saved.is_relative_to(demo_app.outputs.resolve()) and saved.is_file()
    assert saved.parent.parent == demo_app.outputs.resolve()
    assert all(c.isalnum() or c in "-._" for c in saved.name), saved.name
    with Image.open(path) as img:
        stored = json.loads(img.text["generation"])["prompt"]
    assert stored == prompt.strip().replace("\x00", "")


@attack("Input", "A 10,000-character prompt", "refused with a clear message, before any API call")
def test_an_over_long_prompt_is_refused_clearly(demo_app: ServedApp) -> None:
    with pytest.raises(AppError, match="too long"):
        api_client(demo_app.url).predict("x" * 10_000, "FLUX.1-schnell", "768x512", False, 1,
                                                     api_name="/generate")


# --------------------------------------------------------------------------- the metadata parser


def _base_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


BASE_PNG = _base_png()
HOSTILE = st.sampled_from([
    "__import__('os').system('touch /tmp/pwned')",
    "{{config.__class__.__init__.__globals__}}",
    "<script>alert(1)</script>",
    'Seed: 1, Size: 2x2, Model: "unterminated',
    '"' * 2000,
    "\\" * 2000,
    "a: " * 3000,
    "Steps: 20, " * 2000,
    "\x00\x01\x02\x7f",
    "\u202e\u200f\ufeff",
    '{"prompt": "x", "model": "m", "seed": 1e309}',
    '{"prompt": ' * 500,
    "[" * 5000,
    "Negative prompt:" * 100,
])
TEXTS = st.one_of(st.text(), HOSTILE, st.tuples(HOSTILE, st.text(), HOSTILE).map("".join))
KEYWORDS = st.one_of(st.sampled_from(["parameters", "generation", "prompt", "workflow"]),
                     st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=79))


@attack(
    "Input",
    "10,000 hostile PNG text chunks (`eval` bait, template injection, unterminated quotes, deep nesting)",
    "read as data, never evaluated; no crash",
)
@settings(suppress_health_check=list(HealthCheck))  # 10,000 examples under HYPOTHESIS_PROFILE=ci
@given(st.dictionaries(KEYWORDS, TEXTS, max_size=3))
def test_parser_survives_ten_thousand_hostile_chunks(chunks: dict[str, str]) -> None:
    png = metadata.add_text_chunks(BASE_PNG, chunks)
    read = metadata.read_text_chunks(png)
    assert set(read) == set(chunks)
    record = metadata.read_record(png)
    assert record is None or isinstance(record, dict)
    for value in chunks.values():
        assert isinstance(metadata.parse_infotext(value), dict)


@attack(
    "Input",
    "A PNG whose 1 MB text chunk is built to make a parser backtrack",
    "parsed in linear time (under 2 s)",
)
def test_a_one_megabyte_chunk_parses_in_linear_time() -> None:
    for text in ("a" * 1_000_000, "Seed: 1, " * 110_000, 'Model: "' + "x\\" * 500_000,
                 "word " * 200_000 + "\nSteps: 1, Seed: 2, Size: 3x4"):
        png = metadata.add_text_chunks(BASE_PNG, {"parameters": text})
        assert cpu_seconds(metadata.read_record, png) + cpu_seconds(metadata.parse_infotext, text) < 2.0
