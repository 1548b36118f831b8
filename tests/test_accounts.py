"""User accounts: hashing, the accounts file format and its errors, editing, and the CLI."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
from pathlib import Path
from typing import Callable

import pytest

from webui import accounts as accounts_module
from webui.accounts import (
    HEADER,
    Account,
    Accounts,
    AccountsError,
    add_user,
    cli,
    delete_user,
    hash_password,
    verify_password,
)
from webui.config import users_file

PLAIN = "hunter2-Plain-Text"  # a plain-text password to search for in messages


def pbkdf2_hash(password: str, iterations: int = 10_000) -> str:
    """A pbkdf2_sha256 hash as another tool would write it (cheap iteration count for tests)."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"pbkdf2_sha256${iterations}${b64(salt)}${b64(digest)}"


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    """One scrypt hash per test user, computed once: each costs ~30 ms."""
    return {name: hash_password(f"pw-{name}") for name in ("alice", "bob", "carol")}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- hashing ---------------------------------------------------------------------------


def test_scrypt_round_trip_and_wrong_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$n=16384,r=8,p=1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsE", stored)
    assert not verify_password("", stored)


def test_pbkdf2_hashes_are_readable_too() -> None:
    stored = pbkdf2_hash("s3cret")
    assert verify_password("s3cret", stored)
    assert not verify_password("s3cre", stored)


def test_unpadded_base64_is_accepted() -> None:
    stored = pbkdf2_hash("s3cret").replace("=", "")
    assert verify_password("s3cret", stored)


def test_salts_differ_for_the_same_password() -> None:
    first, second = hash_password("same"), hash_password("same")
    assert first != second
    assert first.split("$")[2] != second.split("$")[2]
    assert len(base64.b64decode(first.split("$")[2])) == 16


def test_non_ascii_and_lone_surrogate_passwords_do_not_crash() -> None:
    stored = hash_password("pässwörd ✓")
    assert verify_password("pässwörd ✓", stored)
    assert not verify_password("\ud800", stored)


def test_verify_refuses_something_that_is_not_a_hash() -> None:
    with pytest.raises(ValueError):
        verify_password("x", "hunter2")


def test_account_repr_hides_the_hash() -> None:
    account = Account("alice", "scrypt$secretish", admin=True)
    assert "secretish" not in repr(account)


# --- loading ---------------------------------------------------------------------------


def test_load_a_valid_file(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = write(
        tmp_path / "accounts.txt",
        f"{HEADER}\n   \n# a comment\n  alice:{hashes['alice']}:admin  \n\nbob:{hashes['bob']}\r\n"
        f"dave.o-k_9@x:{pbkdf2_hash('pw-dave')}\n",
    )
    loaded = Accounts.load(path)
    assert loaded.names() == ["alice", "bob", "dave.o-k_9@x"]
    assert loaded.is_admin("alice") and not loaded.is_admin("bob")
    assert not loaded.is_admin("nobody") and not loaded.is_admin(None)
    assert loaded.check("alice", "pw-alice") and loaded.check("bob", "pw-bob")
    assert loaded.check("dave.o-k_9@x", "pw-dave")
    assert not loaded.check("alice", "pw-bob")
    assert not loaded.check("Alice", "pw-alice")  # names are case-sensitive
    assert not loaded.check("nobody", "pw-alice")
    assert loaded.accounts["bob"] == Account("bob", hashes["bob"])


def test_accounts_are_read_only(tmp_path: Path, hashes: dict[str, str]) -> None:
    loaded = Accounts.load(write(tmp_path / "u.txt", f"alice:{hashes['alice']}\n"))
    with pytest.raises(TypeError):
        loaded.accounts["eve"] = Account("eve", hashes["bob"])  # type: ignore[index]
    assert "scrypt" not in repr(loaded)


def test_a_byte_order_mark_is_tolerated(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = tmp_path / "u.txt"
    path.write_bytes(b"\xef\xbb\xbf" + f"alice:{hashes['alice']}\n".encode())
    assert Accounts.load(path).names() == ["alice"]


@pytest.mark.parametrize(
    ("body", "lineno", "expected"),
    [
        ("alice\n", 1, "expected NAME:HASH[:admin]"),
        ("alice:{alice}:admin:extra\n", 1, "expected NAME:HASH[:admin]"),
        ("# ok\n\nbad name:{alice}\n", 3, "bad user name"),
        (":{alice}\n", 1, "bad user name"),
        ("{long}:{alice}\n", 1, "bad user name"),
        ("alice:{alice}\nbob:{bob}\nalice:{carol}\n", 3, "duplicate user 'alice' (first on line 1)"),
        ("alice:{alice}:admin\nbob:{bob}:admin\n", 2, "second admin 'bob'"),
        ("alice:{alice}:Admin\n", 1, "unknown flag"),
        ("alice:{alice}:\n", 1, "unknown flag"),
        ("alice:scrypt$n=16384,r=8,p=1$AAAA\n", 1, "malformed scrypt hash"),
        ("alice:scrypt$n=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA\n", 1, "power of two"),
        ("alice:scrypt$n=1048576,r=32,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA\n", 1, "128 MiB"),
        ("alice:scrypt$n=16384,r=8,p=1$not*base64$AAAAAAAAAAAAAAAAAAAAAA\n", 1, "salt is not base64"),
        ("alice:pbkdf2_sha256$10$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA\n", 1, "iterations"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, hashes: dict[str, str], body: str, lineno: int, expected: str
) -> None:
    path = write(tmp_path / "accounts.txt", body.format(**hashes, long="x" * 65))
    with pytest.raises(AccountsError) as caught:
        Accounts.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{lineno}: "), message
    assert expected in message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("line", [f"carol:{PLAIN}", f"carol:{PLAIN}:admin", f"carol:bcrypt${PLAIN}"])
def test_plain_text_password_is_refused_without_being_quoted(
    tmp_path: Path, hashes: dict[str, str], line: str
) -> None:
    path = write(tmp_path / "accounts.txt", f"# team\nalice:{hashes['alice']}\n{line}\n")
    with pytest.raises(AccountsError) as caught:
        Accounts.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:3: ")
    assert "the password field is not a hash" in message and "plain-text passwords are refused" in message
    assert "python launch.py adduser carol" in message
    assert PLAIN not in message and "hunter2" not in message


def test_malformed_hash_message_does_not_quote_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "u.txt", f"carol:scrypt${PLAIN}\n")
    with pytest.raises(AccountsError) as caught:
        Accounts.load(path)
    assert PLAIN not in str(caught.value) and "malformed scrypt hash" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.txt"
    with pytest.raises(AccountsError, match="no such accounts file") as caught:
        Accounts.load(path)
    assert str(path) in str(caught.value)


def test_file_without_accounts_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "u.txt", HEADER)
    with pytest.raises(AccountsError, match="no accounts") as caught:
        Accounts.load(path)
    assert str(path) in str(caught.value)


def test_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "u.txt"
    path.write_bytes(b"alice:\xff\xfe\n")
    with pytest.raises(AccountsError, match="not UTF-8") as caught:
        Accounts.load(path)
    assert str(path) in str(caught.value)


# --- check -----------------------------------------------------------------------------


def counting(calls: list[str]) -> Callable[[str, str], bool]:
    def verify(password: str, password_hash: str) -> bool:
        calls.append(password_hash)
        return verify_password(password, password_hash)

    return verify


def test_unknown_name_still_costs_one_hash_against_a_dummy(tmp_path: Path, hashes: dict[str, str]) -> None:
    loaded = Accounts.load(write(tmp_path / "u.txt", f"alice:{hashes['alice']}\nbob:{hashes['bob']}\n"))
    known: list[str] = []
    unknown: list[str] = []
    assert not loaded.check("alice", "wrong", verify=counting(known))
    assert not loaded.check("mallory", "pw-alice", verify=counting(unknown))
    assert known == [hashes["alice"]]
    assert len(unknown) == 1 and unknown[0] not in hashes.values()
    # The dummy has the same scheme and cost parameters as a real hash, so it costs the same.
    assert unknown[0].split("$")[:2] == hashes["alice"].split("$")[:2]


def test_unknown_name_runs_the_real_kdf_with_the_same_parameters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hashes: dict[str, str]
) -> None:
    loaded = Accounts.load(write(tmp_path / "u.txt", f"alice:{hashes['alice']}\n"))
    real_scrypt = hashlib.scrypt
    calls: list[tuple[int, int, int, int]] = []

    def spy(password: bytes, **kw: int) -> bytes:
        calls.append((kw["n"], kw["r"], kw["p"], kw["dklen"]))
        return real_scrypt(password, **kw)

    monkeypatch.setattr(accounts_module.hashlib, "scrypt", spy)
    assert not loaded.check("alice", "wrong")
    assert not loaded.check("nobody", "wrong")
    assert not loaded.check("nobody", "pw-alice")  # someone else's password opens nothing
    assert calls == [(16384, 8, 1, 32)] * 3


def test_unknown_name_is_refused_even_if_the_dummy_matched(tmp_path: Path, hashes: dict[str, str]) -> None:
    loaded = Accounts.load(write(tmp_path / "u.txt", f"alice:{hashes['alice']}\n"))
    assert not loaded.check("nobody", "anything", verify=lambda password, password_hash: True)
    assert loaded.check("alice", "anything", verify=lambda password, password_hash: True)


def test_dummy_follows_a_pbkdf2_file(tmp_path: Path) -> None:
    loaded = Accounts.load(write(tmp_path / "u.txt", f"zed:{pbkdf2_hash('pw', 12_345)}\n"))
    calls: list[str] = []
    assert not loaded.check("nobody", "pw", verify=counting(calls))
    assert calls[0].startswith("pbkdf2_sha256$12345$")


def test_single_login_is_its_owners_admin_account() -> None:
    single = Accounts.single("ann", "hunter2")
    assert single.names() == ["ann"] and single.is_admin("ann")
    assert single.check("ann", "hunter2")
    assert not single.check("ann", "hunter3") and not single.check("bob", "hunter2")
    assert "hunter2" not in repr(single)
    with pytest.raises(ValueError):
        Accounts.single("ann", "")


def test_accounts_refuses_two_admins_when_built_directly(hashes: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Accounts({"a": Account("a", hashes["alice"], True), "b": Account("b", hashes["bob"], True)})


# --- add_user / delete_user ------------------------------------------------------------


def test_add_user_creates_a_private_file_with_the_header(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    add_user(path, "alice", "pw-one", admin=True)
    assert mode(path) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert "pw-one" not in text
    loaded = Accounts.load(path)
    assert loaded.check("alice", "pw-one") and loaded.is_admin("alice")
    assert [p.name for p in tmp_path.iterdir()] == ["users.txt"]  # no temp file left behind


def test_add_user_updates_in_place_keeping_comments_and_others(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    original = (
        f"# team logins\nalice:{hashes['alice']}:admin\n\n# the intern\n"
        f"bob:{hashes['bob']}\ncarol:{hashes['carol']}\n"
    )
    path = write(tmp_path / "users.txt", original)
    os.chmod(path, 0o644)
    add_user(path, "bob", "new-bob")
    lines = path.read_text(encoding="utf-8").splitlines()
    before = original.splitlines()
    assert lines[:4] == before[:4] and lines[5:] == before[5:]
    assert lines[4].startswith("bob:scrypt$") and lines[4] != before[4]
    assert mode(path) == 0o600
    loaded = Accounts.load(path)
    assert loaded.check("bob", "new-bob") and not loaded.check("bob", "pw-bob")
    assert loaded.check("alice", "pw-alice") and loaded.is_admin("alice")


def test_add_user_appends_a_new_user(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = write(tmp_path / "users.txt", f"alice:{hashes['alice']}")  # no final newline
    add_user(path, "dave", "pw-dave")
    assert Accounts.load(path).names() == ["alice", "dave"]
    assert path.read_text().splitlines()[0] == f"alice:{hashes['alice']}"


def test_add_user_replaces_a_plain_text_line_as_the_error_advises(
    tmp_path: Path, hashes: dict[str, str]
) -> None:
    path = write(tmp_path / "users.txt", f"alice:{hashes['alice']}\ncarol:{PLAIN}\n")
    add_user(path, "carol", "now-hashed")
    assert PLAIN not in path.read_text()
    assert Accounts.load(path).check("carol", "now-hashed")


def test_add_user_refuses_bad_names_and_empty_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    for name in ["", "a:b", "a b", "x" * 65, "ünï"]:
        with pytest.raises(AccountsError, match="bad user name"):
            add_user(path, name, "pw")
    with pytest.raises(AccountsError, match="empty password"):
        add_user(path, "alice", "")
    assert not path.exists()


def test_add_user_allows_one_admin_only(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = write(tmp_path / "users.txt", f"alice:{hashes['alice']}:admin\nbob:{hashes['bob']}\n")
    before = path.read_text()
    with pytest.raises(AccountsError, match="'alice' is already the admin"):
        add_user(path, "bob", "pw", admin=True)
    assert path.read_text() == before
    add_user(path, "alice", "pw-alice-2", admin=True)  # the admin changing their own password
    assert Accounts.load(path).is_admin("alice")
    add_user(path, "alice", "pw-alice-3")  # the flag is set exactly as asked
    add_user(path, "bob", "pw-bob-2", admin=True)
    loaded = Accounts.load(path)
    assert loaded.is_admin("bob") and not loaded.is_admin("alice")


def test_add_user_refuses_to_rewrite_a_file_broken_elsewhere(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = write(tmp_path / "users.txt", f"alice:{hashes['alice']}\n\nbroken line\n")
    with pytest.raises(AccountsError, match=r"users\.txt:3: "):
        add_user(path, "bob", "pw")


def test_delete_user(tmp_path: Path, hashes: dict[str, str]) -> None:
    path = write(tmp_path / "users.txt", f"# c\nalice:{hashes['alice']}:admin\nbob:{hashes['bob']}\n")
    assert delete_user(path, "bob") is True
    assert path.read_text() == f"# c\nalice:{hashes['alice']}:admin\n"
    assert mode(path) == 0o600
    assert delete_user(path, "bob") is False
    assert delete_user(path, "Alice") is False
    assert delete_user(tmp_path / "missing.txt", "bob") is False
    assert not (tmp_path / "missing.txt").exists()


def test_edits_at_the_same_time_lose_no_account(tmp_path: Path) -> None:
    """A script adding users side by side: each edit reads, changes and writes the file, and
    without a lock two started from the same old file and one account was lost."""
    from concurrent.futures import ThreadPoolExecutor

    from webui.tokens import ApiTokens

    path = tmp_path / "users.txt"
    names = [f"user{n}" for n in range(12)]
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(lambda name: add_user(path, name, "pw-" + name), names))
    assert Accounts.load(path).names() == sorted(names)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda name: delete_user(path, name), names[:6]))
    assert Accounts.load(path).names() == sorted(names[6:])
    store = ApiTokens(tmp_path / "tokens.txt")
    with ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(store.issue, names))
    assert sorted(line.partition(":")[0] for line in (tmp_path / "tokens.txt").read_text().splitlines()
                  if not line.startswith("#")) == sorted(names)


# --- cli -------------------------------------------------------------------------------


class FakeGetpass:
    """Answers prompts from a list and records them, like a person typing unechoed."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def run(tmp_path: Path, argv: list[str], *, stdin: str = "", getpass: FakeGetpass | None = None,
        environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli(
        argv, stdin=io.StringIO(stdin), stdout=out, stderr=err,
        getpass=getpass or FakeGetpass(), environ=environ or {}, cwd=tmp_path,
    )
    return code, out.getvalue(), err.getvalue()


def test_cli_adduser_asks_twice_and_never_prints_the_password(tmp_path: Path) -> None:
    typed = FakeGetpass(PLAIN, PLAIN)
    code, out, err = run(tmp_path, ["adduser", "alice", "--admin"], getpass=typed)
    assert (code, out, err) == (0, "added alice\n", "")
    assert len(typed.prompts) == 2
    path = tmp_path / "users.txt"
    text = path.read_text()
    assert PLAIN not in text and mode(path) == 0o600
    loaded = Accounts.load(path)
    assert loaded.check("alice", PLAIN) and loaded.is_admin("alice")
    hash_text = loaded.accounts["alice"].password_hash
    code, out, err = run(tmp_path, ["adduser", "alice", "--admin"], getpass=FakeGetpass("x2", "x2"))
    assert (code, out, err) == (0, "updated alice\n", "")
    assert PLAIN not in out + err and hash_text not in out + err


def test_cli_adduser_mismatch_and_empty_are_refused(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, ["adduser", "alice"], getpass=FakeGetpass(PLAIN, PLAIN + "x"))
    assert code == 1 and out == "" and "do not match" in err
    assert PLAIN not in err
    code, out, err = run(tmp_path, ["adduser", "alice"], getpass=FakeGetpass(""))
    assert code == 1 and "empty password" in err
    assert not (tmp_path / "users.txt").exists()


def test_cli_adduser_fails_before_prompting_when_it_cannot_succeed(tmp_path: Path) -> None:
    typed = FakeGetpass()
    code, _, err = run(tmp_path, ["adduser", "bad:name"], getpass=typed)
    assert code == 1 and "bad user name" in err and typed.prompts == []
    run(tmp_path, ["adduser", "alice", "--admin", "--password-stdin"], stdin="a\n")
    code, _, err = run(tmp_path, ["adduser", "bob", "--admin"], getpass=typed)
    assert code == 1 and "already the admin" in err and typed.prompts == []


def test_cli_password_stdin(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, ["adduser", "bot", "--password-stdin"], stdin=f" {PLAIN} \r\nignored\n")
    assert (code, out, err) == (0, "added bot\n", "")
    assert Accounts.load(tmp_path / "users.txt").check("bot", f" {PLAIN} ")  # only the newline is stripped
    code, _, err = run(tmp_path, ["adduser", "bot", "--password-stdin"], stdin="\n")
    assert code == 1 and "empty password" in err


def test_cli_reports_losing_the_admin_flag(tmp_path: Path) -> None:
    run(tmp_path, ["adduser", "alice", "--admin", "--password-stdin"], stdin="a\n")
    code, out, _ = run(tmp_path, ["adduser", "alice", "--password-stdin"], stdin="b\n")
    assert code == 0 and out.startswith("updated alice (no longer admin")


def test_cli_deluser(tmp_path: Path) -> None:
    run(tmp_path, ["adduser", "bob", "--password-stdin"], stdin="pw\n")
    assert run(tmp_path, ["deluser", "bob"]) == (0, "deleted bob\n", "")
    code, out, err = run(tmp_path, ["deluser", "bob"])
    assert code == 1 and out == "" and err == f"error: no user bob in {tmp_path / 'users.txt'}\n"


def test_cli_file_choice_flag_env_dotenv_default(tmp_path: Path) -> None:
    assert users_file(None, {}, tmp_path) == tmp_path / "users.txt"
    (tmp_path / ".env").write_text("YUNYX_USERS=from-dotenv.txt\n")
    assert users_file(None, {}, tmp_path) == tmp_path / "from-dotenv.txt"
    assert users_file(None, {"YUNYX_USERS": "/abs/env.txt"}, tmp_path) == Path("/abs/env.txt")
    run(tmp_path, ["adduser", "a", "--password-stdin"], stdin="pw\n", environ={"YUNYX_USERS": "env.txt"})
    run(tmp_path, ["adduser", "b", "--password-stdin", "--users", "sub.txt"], stdin="pw\n")
    assert Accounts.load(tmp_path / "env.txt").names() == ["a"]
    assert Accounts.load(tmp_path / "sub.txt").names() == ["b"]


def test_cli_broken_file_error_is_named_and_does_not_leak(tmp_path: Path) -> None:
    write(tmp_path / "users.txt", f"carol:{PLAIN}\n")
    code, out, err = run(tmp_path, ["adduser", "dave", "--password-stdin"], stdin="pw\n")
    assert code == 1 and f"{tmp_path / 'users.txt'}:1: " in err and PLAIN not in out + err


def test_cli_usage_errors_go_to_the_given_stream(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, ["adduser"])
    assert code == 2 and out == "" and "NAME" in err
    code, out, _ = run(tmp_path, ["adduser", "--help"])
    assert code == 0 and "--password-stdin" in out
    code, _, err = run(tmp_path, ["frobnicate"])
    assert code == 2 and "invalid choice" in err
