"""Issue 16.12: personal API tokens for scripts and AI assistants on a team app.

Over HTTP against an app built in this process: MCP `tools/call` and the Gradio API with
`Authorization: Bearer <token>` run as the token's user, under the same private-history
and daily-limit rules as that user's browser.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import requests
from gradio_client.exceptions import AppError

from webui.accounts import add_user
from webui.cli import main as command
from webui.config import Secret
from webui.tokens import ApiTokens, tokens_path

from .conftest import LAUNCH, TEST_KEY, token
from .security import attack
from .support.apps import ServedApp, api_client, served
from .support.fake_api import FakeApi
from .support.team import users_file

PASSWORDS = {"alice": "alice-pass-1234", "bob": "bob-pass-5678"}
ARGS = ("FLUX.1-schnell", "768x512", False, 5)
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def app(tmp_path_factory, fake: FakeApi) -> Iterator[ServedApp]:
    """A private team app with MCP on and a daily limit of 2; each user made one image."""
    folder = tmp_path_factory.mktemp("tokens")
    users = users_file(folder, PASSWORDS, admin=None)
    with served(folder / "outputs", api_key=Secret(TEST_KEY), api_base=fake.base_url, users_file=users,
                private_history=True, daily_limit=2, mcp=True) as app:
        for name, password in PASSWORDS.items():
            api_client(app.url, auth=(name, password)).predict(f"{name}'s own", *ARGS,
                                                                          api_name="/generate")
        yield app


@pytest.fixture
def tokens(app: ServedApp) -> dict[str, str]:
    """A fresh token each, issued for this test: other tests revoke theirs (a user's every token)."""
    store = ApiTokens(tokens_path(app.app.settings.users_file, Path.cwd()))
    return {name: store.issue(name) for name in PASSWORDS}


def mcp(app: ServedApp, method: str, params: dict, bearer: str | None, **headers: str) -> requests.Response:
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.post(app.url + "gradio_api/mcp/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                            "params": params},
                         headers={**MCP_HEADERS, **headers}, timeout=60)


def mcp_result(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    data = next(line for line in response.text.splitlines() if line.startswith("data:"))
    return json.loads(data.partition(":")[2])["result"]


def history_call(bearer: str, app: ServedApp, **headers: str) -> str:
    result = mcp_result(mcp(app, "tools/call", {"name": "history", "arguments": {"query": "", "offset": 0,
                                                                                   "limit": 50}}, bearer, **headers))
    assert not result.get("isError"), result
    return result["content"][0]["text"]


@attack("Tokens", "An AI assistant calls the MCP tool `history` with user A's API token on a private team app",
        "it sees only A's images; with B's token only B's; a forged `X-Yunyx-User` header changes nothing")
def test_an_mcp_call_with_a_token_sees_only_its_users_images(app, tokens) -> None:
    alice = history_call(tokens["alice"], app)
    assert "alice's own" in alice and "bob's own" not in alice
    bob = history_call(tokens["bob"], app, **{"X-Yunyx-User": "alice"})
    assert "bob's own" in bob and "alice's own" not in bob


@attack("Tokens", "MCP `tools/list` and `tools/call` with no token, a wrong one, or a revoked one",
        "401 before any tool runs (Gradio leaves its MCP routes open; the app does not)")
def test_mcp_needs_a_valid_token(app) -> None:
    for bearer in (None, "yx_not-a-real-token", "sk-something-else"):
        assert mcp(app, "tools/list", {}, bearer).status_code == 401
        assert mcp(app, "tools/call", {"name": "history", "arguments": {"query": ""}}, bearer).status_code == 401
    store = ApiTokens(tokens_path(app.app.settings.users_file, Path.cwd()))
    revoked = store.issue("alice")
    assert mcp(app, "tools/list", {}, revoked).status_code == 200
    store.revoke("alice")
    assert mcp(app, "tools/list", {}, revoked).status_code == 401  # at once, no restart


@attack("Tokens", "A script calls `/generate` and `/history` through `gradio_client` with a Bearer token",
        "it acts as the token's user: their private history, their daily limit")
def test_the_gradio_api_accepts_a_token_under_the_same_rules(app, tokens) -> None:
    bob = api_client(app.url, headers={"Authorization": f"Bearer {tokens['bob']}"})
    word = token()
    _, record = bob.predict(f"bob by token {word}", *ARGS, api_name="/generate")
    assert record["user"] == "bob"
    listed = bob.predict("", 0, 50, api_name="/history")
    assert {r["user"] for r in listed} == {"bob"}
    with pytest.raises(AppError, match="used 2 of your 2"):
        bob.predict("over the limit", *ARGS, api_name="/generate")
    assert requests.get(app.url + "gradio_api/info", headers={"Authorization": "Bearer yx_wrong"},
                        timeout=10).status_code == 401


def test_token_command_prints_a_token_stores_only_its_hash_and_revokes(tmp_path) -> None:
    users = tmp_path / "users.txt"
    add_user(users, "alice", "pw-123456")
    out, err = io.StringIO(), io.StringIO()
    assert command(["token", "alice", "--users", str(users)], out, err) == 0
    issued = out.getvalue().strip()
    stored = (tmp_path / "api-tokens.txt").read_text()
    assert issued.startswith("yx_") and issued not in stored and "alice:" in stored
    assert ApiTokens(tmp_path / "api-tokens.txt").user_for(issued) == "alice"
    assert command(["token", "nobody", "--users", str(users)], out, err) == 1
    done = subprocess.run([sys.executable, str(LAUNCH), "token", "alice", "--revoke", "--users", str(users)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "revoked 1" in done.stdout
    assert ApiTokens(tmp_path / "api-tokens.txt").user_for(issued) is None


@attack("Tokens", "A script calls the REST API (`/api/v1/history`, `/api/v1/images/{id}`) with user A's personal "
        "token from `launch.py token`", "A's own images only; B's image by id is 404; a revoked token is 401")
def test_the_rest_api_accepts_the_same_personal_tokens(app, tokens) -> None:
    api = app.url + "api/v1/"
    store = ApiTokens(tokens_path(app.app.settings.users_file, Path.cwd()))
    alice_token, bob_token = tokens["alice"], tokens["bob"]
    alice = requests.get(api + "history", headers={"Authorization": f"Bearer {alice_token}"}, timeout=30)
    assert alice.status_code == 200, alice.text
    mine = alice.json()
    assert mine and {r["user"] for r in mine} == {"alice"}
    bobs = requests.get(api + "history", headers={"Authorization": f"Bearer {bob_token}"}, timeout=30).json()
    assert bobs and {r["user"] for r in bobs} == {"bob"}
    other = requests.get(api + f"images/{bobs[0]['id']}", headers={"Authorization": f"Bearer {alice_token}"},
                         timeout=30)
    assert other.status_code == 404
    store.revoke("alice")
    gone = requests.get(api + "history", headers={"Authorization": f"Bearer {alice_token}"}, timeout=30)
    assert gone.status_code == 401


@attack("Tokens", "With user B's token, an MCP client fetches the share pack user A's assistant made (MCP tool "
        "`export`, its file URL), and calls the tools `mark`, `board`, `delete`, `restore` and `export` on A's "
        "image by its id",
        "404 for B's fetch, A's token downloads it; every tool call on A's image is refused as not found")
def test_mcp_tools_and_their_files_keep_to_the_callers_own(app, tokens) -> None:
    [alices] = [r for r in app.app.storage.index.search("", 0, 50) if r["user"] == "alice"][:1]
    result = mcp_result(mcp(app, "tools/call", {"name": "export", "arguments": {"query": "", "record_ids": []}},
                            tokens["alice"]))
    assert not result.get("isError"), result
    url = next(word.strip('"\'()[],') for item in result["content"] for word in json.dumps(item).split()
               if "share-pack-" in word and "http" in word)
    url = url[url.index("http"):].split('"')[0].split("\\")[0]
    assert requests.get(url, headers={"Authorization": f"Bearer {tokens['alice']}"}, timeout=30).status_code == 200
    stolen = requests.get(url, headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=30)
    assert stolen.status_code == 404 and not stolen.content.startswith(b"PK")
    for name, arguments in (("mark", {"record_id": alices["id"], "starred": True}),
                            ("board", {"record_ids": [alices["id"]], "add": ["Bob's now"]}),
                            ("delete", {"record_id": alices["id"]}),
                            ("export", {"query": "", "record_ids": [alices["id"]]})):
        refused = mcp_result(mcp(app, "tools/call", {"name": name, "arguments": arguments}, tokens["bob"]))
        assert refused.get("isError") and "alice" not in json.dumps(refused), (name, refused)
    assert app.app.storage.index.get(alices["id"]) is not None


def test_an_mcp_png_info_call_reads_the_image_the_assistant_sends(app, tokens) -> None:
    """The file an MCP client sends (a data: URL) reaches the tool for its token's user."""
    alice = tokens["alice"]
    [mine] = [r for r in app.app.storage.index.search("", 0, 50) if r["user"] == "alice"][:1]
    data = base64.b64encode((app.app.storage.root / mine["file"]).read_bytes()).decode()
    result = mcp_result(mcp(app, "tools/call", {"name": "png_info", "arguments": {
        "file": f"data:image/png;base64,{data}"}}, alice))
    assert not result.get("isError") and mine["id"] in json.dumps(result), result


@attack("Tokens", "User A's assistant sends a file to an MCP tool (`png_info`, a `data:` URL: a PNG whose "
        "infotext holds A's private prompt), which the MCP server uploads over its loopback client; user B "
        "names that upload's path as the PNG Info input (the page's event and `/png_info`) and the library "
        "import input, and fetches it by `file=`",
        "refused as not found on every door: the upload is A's (the first event to read it, A's tool call, "
        "takes it from the loopback client); A's own page still reads it")
def test_a_file_sent_through_mcp_is_its_callers_only(app, tokens) -> None:
    from gradio import utils as gradio_utils
    from PIL import Image, PngImagePlugin

    from .support.events import Events, file_data
    from .support.team import login

    alice = tokens["alice"]
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "alice's unshared sketch of a harbour\nSteps: 20, Seed: 7, Size: 8x8")
    sent = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(sent, format="PNG", pnginfo=info)
    result = mcp_result(mcp(app, "tools/call", {"name": "png_info", "arguments": {
        "file": "data:image/png;base64," + base64.b64encode(sent.getvalue()).decode()}}, alice))
    assert not result.get("isError") and "harbour" in json.dumps(result), result
    uploads = Path(gradio_utils.get_upload_folder())
    [path] = [str(p) for p in uploads.rglob("*.png") if p.is_file() and p.read_bytes() == sent.getvalue()
              and app.app.files.handed.owners(p)]  # the loopback client's upload, not the server's own save

    bob_browser, alice_browser = login(app, "bob", PASSWORDS), login(app, "alice", PASSWORDS)
    bob = Events(app.url, bob_browser)
    for answer in (bob.call(bob.find(reads=("pnginfo-file",)), [file_data(path), "UTC"]),
                   bob.call(bob.find(reads=("library-import",)), [file_data(path)])):
        assert not answer["success"] and "harbour" not in json.dumps(answer), answer
    event = bob_browser.post(f"{app.url}gradio_api/call/png_info", json={"data": [file_data(path)]}, timeout=30)
    streamed = bob_browser.get(f"{app.url}gradio_api/call/png_info/{event.json()['event_id']}", timeout=60).text
    assert "event: error" in streamed and "harbour" not in streamed, streamed
    for url in (f"{app.url}gradio_api/file={path}", f"{app.url}gradio_api/file/{path}"):
        assert bob_browser.get(url, timeout=10).status_code == 404
    own = Events(app.url, alice_browser)
    mine = own.call(own.find(reads=("pnginfo-file",)), [file_data(path), "UTC"])
    assert mine["success"] and "harbour" in json.dumps(mine), mine
