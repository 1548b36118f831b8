"""Issue 16 (5, 6, 8, 9, 10): floods, login guessing, foreign hosts, echoed keys, unstorable text.

Each test drives an app built in this process over HTTP, the way an attacker would.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
import requests
from gradio_client.exceptions import AppError

from webui.config import Secret
from webui.hosts import AllowedHosts
from webui.logins import LoginThrottle

from .conftest import TEST_KEY, token, wait_until
from .security import attack
from .support.apps import CallFailed, ServedApp, api_client, call, served
from .support.fake_api import FakeApi

ARGS = ("FLUX.1-schnell", "768x512", False, 5)


# --------------------------------------------------------------------------- 16.9 an echoed key


@attack("Leaks", "The API answers 400 with a body that quotes the request's `Authorization: Bearer <key>`",
        "the visitor reads the API's reason with the key and any Bearer token replaced by `***`; the log too")
def test_a_key_echoed_by_the_api_reaches_neither_the_visitor_nor_the_log(
    fake: FakeApi, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 body that quotes our Authorization header is relayed without the key or any Bearer token."""
    caplog.set_level(logging.DEBUG)
    fake.reset()
    fake.set_faults(status=400, echo_auth=True)
    try:
        with served(tmp_path, api_key=Secret(TEST_KEY), api_base=fake.base_url) as app:
            with pytest.raises(AppError) as refused:
                api_client(app.url).predict("echo", *ARGS, api_name="/generate")
    finally:
        fake.set_faults(status=None, echo_auth=None)
    message = str(refused.value)
    assert "injected by the fake API" in message  # the API's words did reach the visitor
    assert TEST_KEY not in message and "Bearer sk" not in message
    assert TEST_KEY not in caplog.text


# --------------------------------------------------------------------------- 16.10 text that must be storable


@pytest.fixture(scope="module")
def demo(fake: FakeApi, tmp_path_factory) -> Iterator[ServedApp]:
    """One in-process app against the fake API (it counts calls), for the tests that need no special settings."""
    with served(tmp_path_factory.mktemp("traffic-demo"), api_key=Secret(TEST_KEY), api_base=fake.base_url) as app:
        yield app


def _api_calls(fake: FakeApi) -> int:
    return fake.stats()["generation_requests"]


@attack("Input", "`/generate` with a prompt of only NULs, control characters or a lone surrogate",
        "refused as an empty prompt before any API call (no credit or quota spent)")
def test_a_prompt_of_only_control_characters_is_refused_before_the_api(demo: ServedApp, fake: FakeApi) -> None:
    before = _api_calls(fake)
    for prompt in ("\x00\x00\x00", "\ud800\x07\r", " \x1b\x7f "):
        with pytest.raises(CallFailed, match="type a prompt"):
            call(demo.url, "generate", prompt, *ARGS)
    assert _api_calls(fake) == before


@attack("Input", "Lone surrogates (`\\ud800` in JSON) and control characters in the prompt and model",
        "removed before the API call (newline and tab kept); the image is saved and listed at once")
def test_lone_surrogates_and_control_characters_are_cleaned_and_the_image_is_listed(demo: ServedApp) -> None:
    word = token()
    _, record = call(demo.url, "generate", f"sur\ud800ro\x07gate {word}\tline\r\nnext", "FLUX.1-schnell\udfff",
                     "768x512", False, 5)
    assert record["prompt"] == f"surrogate {word}\tline\nnext"
    assert record["model"] == "FLUX.1-schnell"
    listed = api_client(demo.url).predict(word, 0, 10, api_name="/history")
    assert [r["id"] for r in listed] == [record["id"]]


@attack("Input", "The history index refuses the insert after the API answered",
        "the image is kept, the caller gets it with a warning, and the next listing indexes it again")
def test_an_image_the_index_refused_is_still_listed_and_the_caller_is_told(
    demo: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = demo.app.storage.index
    real_add = index.add

    def refuse_once(record):
        monkeypatch.setattr(index, "add", real_add)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(index, "add", refuse_once)
    word = token()
    path, record = api_client(demo.url).predict(f"unindexed {word}", *ARGS, api_name="/generate")
    assert Path(path).is_file()
    assert "history list could not be updated" in record["warning"]
    listed = api_client(demo.url).predict(word, 0, 10, api_name="/history")
    assert [r["id"] for r in listed] == [record["id"]]


# --------------------------------------------------------------------------- 16.8 foreign hosts and origins


@attack("Hosts", "DNS rebinding: `Host: evil.example` on `/`, `/config`, `/gradio_api/info` and a `/generate` call "
        "of an app without login", "400 before Gradio sees the request; no API call")
def test_a_foreign_host_header_is_refused(demo: ServedApp, fake: FakeApi) -> None:
    port = demo.url.rsplit(":", 1)[1].strip("/")
    before = _api_calls(fake)
    for path in ("", "config", "gradio_api/info"):
        assert requests.get(demo.url + path, headers={"Host": "evil.example"}, timeout=10).status_code == 400
    sent = requests.post(demo.url + "gradio_api/call/generate", json={"data": ["rebound", *ARGS]},
                         headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert sent.status_code == 400 and "event_id" not in sent.text
    assert _api_calls(fake) == before
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "192.168.1.20"):
        assert requests.get(demo.url + "config", headers={"Host": host}, timeout=10).status_code == 200, host


@attack("Hosts", "A page on another site calls the app (`Origin: http://evil.example`, a CORS preflight, "
        "`Origin: null`)", "403; no `Access-Control-Allow-Origin` for a foreign origin")
def test_a_foreign_origin_is_neither_served_nor_reflected(demo: ServedApp) -> None:
    for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example"):
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        for method in ("GET", "OPTIONS"):
            response = requests.request(method, demo.url + "gradio_api/info", headers=headers, timeout=10)
            assert response.status_code == 403, (origin, method)
            assert "access-control-allow-origin" not in {k.lower() for k in response.headers}
    same = requests.get(demo.url + "config", headers={"Origin": demo.url.rstrip("/")}, timeout=10)
    assert same.status_code == 200


def test_allowed_hosts_adds_names_and_the_share_link_counts(tmp_path) -> None:
    with served(tmp_path, allowed_hosts=("studio.lan",)) as app:
        assert requests.get(app.url + "config", headers={"Host": "studio.lan"}, timeout=10).status_code == 200
        assert requests.get(app.url + "config", headers={"Host": "other.lan"}, timeout=10).status_code == 400
    hosts = AllowedHosts("127.0.0.1", (), lambda: "https://0123abcd.gradio.live")
    assert "0123abcd.gradio.live" in hosts and "gradio.live" not in hosts
    assert "anything.example" in AllowedHosts("127.0.0.1", ("*",))


# --------------------------------------------------------------------------- 16.6 login guessing

PASSWORD = "correct-horse-battery-staple-77"


@pytest.fixture(scope="module")
def login_app(tmp_path_factory) -> Iterator[ServedApp]:
    with served(tmp_path_factory.mktemp("logins"), auth=("ann", Secret(PASSWORD))) as app:
        yield app


def _login(app: ServedApp, name: str, password: str, address: str, multipart: bool = False) -> requests.Response:
    """POST /login as the page does; `address` arrives as the tunnel's X-Forwarded-For."""
    form = {"username": name, "password": password}
    headers = {"X-Forwarded-For": f"10.9.9.9, {address}"}  # the first entry is the client's own claim
    if multipart:
        return requests.post(app.url + "login", files={k: (None, v) for k, v in form.items()}, headers=headers,
                             timeout=30)
    return requests.post(app.url + "login", data=form, headers=headers, timeout=30)


@attack("Logins", "Guess passwords as fast as possible from one address (urlencoded and multipart forms)",
        "after 5 failures each try is answered 429 with `Retry-After`, before any password hash is computed; "
        "the refusal is logged with name and address, never the password")
def test_password_guessing_is_throttled_before_hashing(login_app: ServedApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    statuses = [_login(login_app, "ann", f"guess-{i}", "203.0.113.5", multipart=i % 2 == 1) for i in range(12)]
    assert statuses[:5] == [s for s in statuses[:5] if s.status_code == 400]
    throttled = [s for s in statuses if s.status_code == 429]
    assert len(throttled) >= 5 and all(s.status_code in (400, 429) for s in statuses)
    assert all(int(s.headers["Retry-After"]) >= 1 for s in throttled)
    hashed = [r for r in caplog.records if r.getMessage().startswith("Refused a login")]
    assert len(hashed) == 12 - len(throttled)  # a throttled try never reached the password check
    refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Throttled a login")]
    assert len(refusals) == len(throttled) and "'ann'" in refusals[0] and "203.0.113.5" in refusals[0]
    assert not any("guess-" in r.getMessage() for r in caplog.records)


@attack("Logins", "Lock the real user out by guessing their name from many addresses",
        "the name waits at most 30 s between tries (an address up to 5 minutes); "
        "the owner's correct password works from their own address once the short wait is over")
def test_a_guessed_name_does_not_lock_its_owner_out_for_long(login_app: ServedApp) -> None:
    for i in range(7):  # the name is now throttled (each address is still under its own limit)
        _login(login_app, "ann", "wrong", f"198.51.100.{i}")
    refused = _login(login_app, "ann", PASSWORD, "192.0.2.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 30
    wait_until(lambda: _login(login_app, "ann", PASSWORD, "192.0.2.1").status_code == 200, timeout=35,
               interval=0.5, what="the owner's login after the name's short back-off")


def test_backoff_grows_per_address_and_stays_short_per_name() -> None:
    now = [0.0]
    throttle = LoginThrottle(clock=lambda: now[0])
    waits = []
    for _ in range(30):
        throttle.failed("203.0.113.5", "ann")
        waits.append((throttle.by_address.wait("203.0.113.5"), throttle.by_name.wait("ann")))
    assert waits[4] == (0, 0) and waits[5] == (1, 1) and waits[6] == (2, 2)
    assert waits[-1] == (300, 30)
    now[0] += 901  # fifteen quiet minutes: forgotten
    assert throttle.wait("203.0.113.5", "ann") == 0
    throttle.failed("203.0.113.5", "ann")
    throttle.succeeded("203.0.113.5", "ann")
    assert throttle.by_address.wait("203.0.113.5") == 0


# --------------------------------------------------------------------------- 16.5 a flooding visitor


@pytest.fixture
def slow_app(tmp_path, fake: FakeApi) -> Iterator[ServedApp]:
    """One generation at a time against a 1 s API; a visitor may have 3 queued or running.

    Its jobs run to the end before it stops: none reaches the fake during the next test."""
    fake.reset()
    fake.set_faults(delay=1.0)
    try:
        with served(tmp_path, api_key=Secret(TEST_KEY), api_base=fake.base_url, concurrency=1,
                    visitor_queue=3) as app:
            try:
                yield app
            finally:
                fake.set_faults(hold=None, delay=None)  # what a test left queued ends at once
                wait_until(lambda: _generations_in_gradio(app) == 0, timeout=120, what="the app's jobs to end")
    finally:
        fake.set_faults(delay=None)


def _join(app: ServedApp, session: str, prompt: str, lang: str = "en-US") -> requests.Response:
    """Submit one /generate call as browser session `session` (no wait for the result)."""
    return requests.post(f"{app.url}gradio_api/call/generate", json={"data": [prompt, *ARGS], "session_hash": session},
                         headers={"Accept-Language": lang}, timeout=10)


def _generations_in_gradio(app: ServedApp) -> int:
    """Generation events waiting or running, as Gradio's own queue holds them."""
    queue = app.app.blocks._queue
    waiting = queue.event_queue_per_concurrency_id.get("generate")
    running = [e for job in queue.active_jobs if job for e in job if e.concurrency_id == "generate"]
    return (len(waiting.queue) if waiting else 0) + len(running)


@attack("Flooding", "One browser session submits 300 `/generate` calls at once (no login)",
        "at most 3 are queued or running (`--visitor-queue 3`), the rest are refused at once with HTTP 429 and a "
        "message in the visitor's language; others' `/history` keeps answering")
def test_a_flood_is_capped_per_visitor_and_refused_at_once(slow_app: ServedApp, fake: FakeApi) -> None:
    fake.set_faults(hold=True)  # none of the 3 ends while the flood lasts, however slow the machine
    answers, most = [], 0
    for i in range(300):
        answers.append(_join(slow_app, "flooder", f"flood {i}", "zh-CN" if i % 2 else "en-US"))
        most = max(most, _generations_in_gradio(slow_app))
    refused = [a for a in answers if a.status_code == 429]
    assert most == 3 and len(refused) == 297
    assert all(a.status_code in (200, 429) for a in answers)
    assert any("You already have 3 images" in a.json()["detail"] for a in refused)
    assert any("你已有 3 张图片" in a.json()["detail"] for a in refused)
    assert isinstance(call(slow_app.url, "history", "", 0, 5), list)


@attack("Flooding", "A visitor asks for one image while another visitor's 3 jobs wait (`--concurrency 1`)",
        "visitors take turns: the newcomer's image is made next, before the flooder's 2nd and 3rd")
def test_visitors_take_turns(slow_app: ServedApp, fake: FakeApi) -> None:
    word = token()
    flooder, visitor = api_client(slow_app.url), api_client(slow_app.url)
    # The flood's first job stays at the API until the newcomer has queued: on a busy machine
    # a 1 s call could end (and the second start) before the newcomer's call arrives.
    fake.set_faults(hold=True)
    flood = [flooder.submit(f"turns {word} {i}", *ARGS, api_name="/generate") for i in range(3)]
    wait_until(lambda: _api_calls(fake) >= 1 and _generations_in_gradio(slow_app) == 3,
               what="the flood's first job at the API, the other two waiting")
    newcomer = visitor.submit(f"turns {word} newcomer", *ARGS, api_name="/generate")
    wait_until(lambda: _generations_in_gradio(slow_app) == 4, what="the newcomer's job in the queue")
    fake.set_faults(hold=None)
    records = [job.result(timeout=60)[1] for job in [newcomer, *flood]]
    made = [r["prompt"] for r in sorted(records, key=lambda r: r["created_at"])]
    assert made.index(f"turns {word} newcomer") <= 1, made
