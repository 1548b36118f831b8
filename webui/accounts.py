"""Named user accounts: a small text file of salted password hashes, one account per line.

Why: the UI is shared through one link, so each teammate gets a login of their own
(one of them may be the admin), and a copied or shoulder-surfed file gives away no
password. The file is meant to be edited with `python launch.py adduser NAME` /
`python launch.py deluser NAME`, but it is plain text so a person can read it.

File format (UTF-8)::

    # YUNYX web UI accounts — edit with: python launch.py adduser NAME / deluser NAME
    # One NAME:HASH[:admin] per line; only hashes, never plain-text passwords.
    alice:scrypt$n=16384,r=8,p=1$<salt>$<digest>:admin
    bob:pbkdf2_sha256$600000$<salt>$<digest>

- Blank lines and lines starting with `#` are ignored; whitespace around a line is too.
- An account line is `NAME:HASH` or `NAME:HASH:admin`, nothing else.
- NAME: 1–64 ASCII letters, digits or `. _ - @` (never `:`), case-sensitive,
  unique in the file. At most one account carries `:admin`.
- HASH is one of:
  - `scrypt$n=N,r=R,p=P$SALT$DIGEST` — `hashlib.scrypt`. Written by this module
    with N=2**14, R=8, P=1, a 16-byte random salt and a 32-byte digest. Read with
    N a power of two in 2**10..2**20, R in 1..32, P in 1..16, at most 128 MiB.
  - `pbkdf2_sha256$ITERATIONS$SALT$DIGEST` — `hashlib.pbkdf2_hmac("sha256")`,
    10,000..10,000,000 iterations. Read only, for hashes made by other tools.
  SALT and DIGEST are standard base64 (padding optional); the salt is base64 of
  raw bytes, so Django hashes (whose salt is plain text) do not carry over.
  The password is hashed as its UTF-8 bytes, with no normalisation.
- Anything else in the password field is refused as a plain-text password.

Every problem in the file is an `AccountsError` naming `FILE:LINE` and what is
wrong, and the message never quotes the password field: if it held a plain-text
password, printing it would leak it. The file is written only atomically (temp
file in the same folder, then `os.replace`) and with mode 0o600.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import getpass as getpass_module
import hashlib
import hmac
import os
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, TextIO

from . import locks
from .config import DEFAULT_USERS_FILE, USERS_ENV, users_file

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
SALT_BYTES = 16
ADMIN_FLAG = "admin"
HEADER = (
    "# YUNYX web UI accounts — edit with: python launch.py adduser NAME / deluser NAME\n"
    "# One NAME:HASH[:admin] per line; only hashes, never plain-text passwords.\n"
)
NAME_RULE = "1–64 letters, digits or . _ - @"
_NAME_RE = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_LINE_SHAPE = "expected NAME:HASH[:admin]"


class AccountsError(ValueError):
    """The accounts file, or a change asked of it, is refused; the message says why and where."""


class _NotAHash(ValueError):
    """The password field names no supported scheme: most likely a plain-text password."""


@dataclass(frozen=True)
class Account:
    """One login; the hash stays out of `repr` so logging an account shows no secret."""

    name: str
    password_hash: str = field(repr=False)
    admin: bool = False


# --- hashes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scrypt:
    """A parsed `scrypt$n=…,r=…,p=…$SALT$DIGEST`."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    def derive(self, password: bytes) -> bytes:
        # OpenSSL needs 128·r·(n+p+2) bytes; its 32 MiB default would refuse larger valid params.
        maxmem = 128 * self.r * (self.n + self.p + 2) + 2**20
        return hashlib.scrypt(
            password, salt=self.salt, n=self.n, r=self.r, p=self.p, dklen=len(self.digest), maxmem=maxmem
        )

    def encode(self) -> str:
        return f"scrypt$n={self.n},r={self.r},p={self.p}${_b64(self.salt)}${_b64(self.digest)}"


@dataclass(frozen=True)
class _Pbkdf2:
    """A parsed `pbkdf2_sha256$ITERATIONS$SALT$DIGEST`."""

    iterations: int
    salt: bytes
    digest: bytes

    def derive(self, password: bytes) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password, self.salt, self.iterations, len(self.digest))

    def encode(self) -> str:
        return f"pbkdf2_sha256${self.iterations}${_b64(self.salt)}${_b64(self.digest)}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str, what: str, low: int, high: int) -> bytes:
    """Decode strictly; padding is optional because some tools strip it."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {what} is not base64") from None
    if not low <= len(raw) <= high:
        raise ValueError(f"the {what} must be {low}–{high} bytes")
    return raw


def _parse_scrypt(rest: str) -> _Scrypt:
    parts = rest.split("$")
    if len(parts) != 3:
        raise ValueError("expected scrypt$n=N,r=R,p=P$SALT$DIGEST")
    match = re.fullmatch(r"n=(\d{1,7}),r=(\d{1,2}),p=(\d{1,2})", parts[0])
    if not match:
        raise ValueError("the parameters must look like n=16384,r=8,p=1")
    n, r, p = (int(group) for group in match.groups())
    if n & (n - 1) or not 2**10 <= n <= 2**20 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError("n must be a power of two in 2**10..2**20, r in 1..32, p in 1..16")
    if 128 * n * r > 2**27:
        raise ValueError("n and r ask for more than 128 MiB of memory per login")
    return _Scrypt(n, r, p, _unb64(parts[1], "salt", 8, 128), _unb64(parts[2], "digest", 16, 64))


def _parse_pbkdf2(rest: str) -> _Pbkdf2:
    parts = rest.split("$")
    if len(parts) != 3:
        raise ValueError("expected pbkdf2_sha256$ITERATIONS$SALT$DIGEST")
    if not re.fullmatch(r"\d{1,9}", parts[0]) or not 10_000 <= int(parts[0]) <= 10_000_000:
        raise ValueError("the iterations must be a number in 10000..10000000")
    return _Pbkdf2(int(parts[0]), _unb64(parts[1], "salt", 8, 128), _unb64(parts[2], "digest", 16, 64))


def _parse_hash(text: str) -> _Scrypt | _Pbkdf2:
    """Parse a hash string; the ValueError's reason never quotes `text` (it may be a password)."""
    scheme, sep, rest = text.partition("$")
    if sep and scheme == "scrypt":
        return _parse_scrypt(rest)
    if sep and scheme == "pbkdf2_sha256":
        return _parse_pbkdf2(rest)
    raise _NotAHash("not a supported password hash (scrypt$… or pbkdf2_sha256$…)")


def _password_bytes(password: str) -> bytes:
    # surrogatepass: a login form can send lone surrogates; they must fail to match, not crash.
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """A fresh scrypt hash with a random salt, so equal passwords never give equal lines."""
    salt = secrets.token_bytes(SALT_BYTES)
    blank = _Scrypt(SCRYPT_N, SCRYPT_R, SCRYPT_P, salt, bytes(SCRYPT_DKLEN))
    return replace(blank, digest=blank.derive(_password_bytes(password))).encode()


def verify_password(password: str, password_hash: str) -> bool:
    """True when `password` matches; compares digests in constant time.

    Raises ValueError when `password_hash` is not a supported hash: that is a broken
    file or a bug, and answering False would look like every login being mistyped.
    """
    parsed = _parse_hash(password_hash)
    return hmac.compare_digest(parsed.derive(_password_bytes(password)), parsed.digest)


def _dummy_hash(accounts: Iterable[Account]) -> str:
    """A hash no password matches, costing what a real account's hash costs.

    Checked for unknown names so that answering "no such user" takes as long as
    "wrong password". It copies the scheme and parameters of the first account by
    name; in a file mixing schemes the timing is only as uniform as the hashes are.
    """
    first = min(accounts, key=lambda account: account.name, default=None)
    if first is None:
        return _Scrypt(SCRYPT_N, SCRYPT_R, SCRYPT_P, bytes(SALT_BYTES), bytes(SCRYPT_DKLEN)).encode()
    parsed = _parse_hash(first.password_hash)
    return replace(parsed, salt=bytes(len(parsed.salt)), digest=bytes(len(parsed.digest))).encode()


# --- reading the file ------------------------------------------------------------------


def valid_name(name: str) -> bool:
    """Names are restricted so they can never break the `NAME:HASH` line format."""
    return _NAME_RE.fullmatch(name) is not None


def _fix_hint(path: Path, name: str) -> str:
    return f"python launch.py adduser {name} --users {path}"


def _read_lines(path: Path, *, missing_ok: bool = False) -> list[str] | None:
    """The file's lines, numbered as an editor numbers them; None if missing and that's fine."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise AccountsError(
            f"{path}: no such accounts file; create it with: python launch.py adduser NAME --users {path}"
        ) from None
    except UnicodeDecodeError:
        raise AccountsError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise AccountsError(f"{path}: cannot read the accounts file ({exc.strerror or exc})") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _parse_password_field(path: Path, lineno: int, name: str, text: str) -> None:
    """Refuse a password field that is not a valid hash, without ever quoting it."""
    where = f"{path}:{lineno}"
    try:
        _parse_hash(text)
    except _NotAHash:
        raise AccountsError(
            f"{where}: the password field is not a hash; plain-text passwords are refused. "
            f"Set a hashed password with: {_fix_hint(path, name)}"
        ) from None
    except ValueError as exc:
        scheme = text.partition("$")[0]
        raise AccountsError(
            f"{where}: the password field is a malformed {scheme} hash ({exc}); "
            f"set a new password with: {_fix_hint(path, name)}"
        ) from None


def _parse_line(path: Path, lineno: int, line: str) -> Account:
    """One stripped, non-comment line → Account, or AccountsError naming FILE:LINE."""
    fields = line.split(":")
    if len(fields) not in (2, 3):
        raise AccountsError(f"{path}:{lineno}: {_LINE_SHAPE}")
    name, password_hash, *flags = fields
    if not valid_name(name):
        raise AccountsError(f"{path}:{lineno}: bad user name (use {NAME_RULE}); {_LINE_SHAPE}")
    _parse_password_field(path, lineno, name, password_hash)
    if flags and flags[0] != ADMIN_FLAG:
        raise AccountsError(f"{path}:{lineno}: unknown flag after the hash (the only flag is 'admin')")
    return Account(name, password_hash, admin=bool(flags))


def _parse_lines(path: Path, numbered: Iterable[tuple[int, str]]) -> dict[str, Account]:
    """Parse numbered lines, refusing duplicate names and a second admin."""
    accounts: dict[str, Account] = {}
    first_line: dict[str, int] = {}
    admin: Account | None = None
    for lineno, raw in numbered:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        account = _parse_line(path, lineno, line)
        if account.name in accounts:
            raise AccountsError(
                f"{path}:{lineno}: duplicate user {account.name!r} (first on line {first_line[account.name]})"
            )
        if account.admin and admin is not None:
            raise AccountsError(
                f"{path}:{lineno}: second admin {account.name!r}; only one account may be admin "
                f"({admin.name!r} on line {first_line[admin.name]} already is)"
            )
        accounts[account.name], first_line[account.name] = account, lineno
        admin = account if account.admin else admin
    return accounts


@dataclass(frozen=True)
class Accounts:
    """Every login the app accepts; immutable, so a running app can't be edited behind its back."""

    accounts: Mapping[str, Account]  # by name
    _dummy_hash: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frozen = MappingProxyType(dict(self.accounts))
        if any(key != account.name for key, account in frozen.items()):
            raise ValueError("Accounts must be keyed by account name")
        if sum(account.admin for account in frozen.values()) > 1:
            raise ValueError("at most one account may be admin")
        object.__setattr__(self, "accounts", frozen)
        object.__setattr__(self, "_dummy_hash", _dummy_hash(frozen.values()))

    @classmethod
    def load(cls, path: Path) -> Accounts:
        """Read and fully validate the file, so a bad line stops the app at start, not at a login."""
        accounts = _parse_lines(path, enumerate(_read_lines(path) or [], 1))
        if not accounts:
            raise AccountsError(
                f"{path}: no accounts, so nobody could log in; add one with: "
                f"python launch.py adduser NAME --users {path}"
            )
        return cls(accounts)

    @classmethod
    def single(cls, name: str, password: str) -> Accounts:
        """The one login of `--auth USER:PASS`; admin, since the only user is the app's owner.

        The name is not held to the file's name rule: it never goes into a file, and
        existing `--auth` values must keep working.
        """
        if not name or not password:
            raise ValueError("both the user name and the password must be non-empty")
        return cls({name: Account(name, hash_password(password), admin=True)})

    def check(
        self, name: str, password: str, *, verify: Callable[[str, str], bool] = verify_password
    ) -> bool:
        """Gradio's auth callable. Unknown names still cost one hash, against a dummy,
        so response time doesn't tell which names exist. `verify` is for tests."""
        account = self.accounts.get(name)
        matched = verify(password, account.password_hash if account else self._dummy_hash)
        return matched and account is not None

    def is_admin(self, name: str | None) -> bool:
        account = self.accounts.get(name) if name is not None else None
        return account is not None and account.admin

    def names(self) -> list[str]:
        return sorted(self.accounts)


# --- editing the file ------------------------------------------------------------------


def _line_name(line: str) -> str | None:
    """The name an account line is about, even when the rest of it is malformed."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    return stripped.split(":", 1)[0]


def _others(path: Path, lines: list[str], name: str) -> dict[str, Account]:
    """Validate every line except `name`'s, with the file's own line numbers.

    `name`'s lines are about to be replaced, so a plain-text password there must not
    block the very command the error message recommends to fix it.
    """
    return _parse_lines(path, ((n, line) for n, line in enumerate(lines, 1) if _line_name(line) != name))


def _replace_lines(lines: list[str], name: str, new: str | None) -> list[str]:
    """Put `new` where `name`'s first line was (or at the end); drop `name`'s other lines."""
    at = next((i for i, line in enumerate(lines) if _line_name(line) == name), len(lines))
    kept = [line for line in lines if _line_name(line) != name]
    return kept if new is None else kept[:at] + [new] + kept[at:]


def _existing_line(lines: list[str], name: str) -> str | None:
    return next((line.strip() for line in lines if _line_name(line) == name), None)


def _format_line(account: Account) -> str:
    return f"{account.name}:{account.password_hash}" + (f":{ADMIN_FLAG}" if account.admin else "")


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable; best effort, as not every platform can open a folder."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_private_lines(path: Path, lines: list[str]) -> None:
    """Write via a 0o600 temp file in the same folder and os.replace: readers see old or new, never half.

    The tokens file (tokens.py) is written the same way: a secret's hash per line.
    """
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise AccountsError(f"{path}: cannot write the accounts file ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def _prepare_add(path: Path, name: str, admin: bool) -> list[str]:
    """Every check that needs no password, so the CLI can fail before prompting for one."""
    if not valid_name(name):
        raise AccountsError(f"bad user name {name!r}: use {NAME_RULE}")
    lines = _read_lines(path, missing_ok=True)
    lines = HEADER.splitlines() if lines is None else lines
    admins = [a.name for a in _others(path, lines, name).values() if a.admin]
    if admin and admins:
        raise AccountsError(f"{path}: {admins[0]!r} is already the admin; only one account may be admin")
    return lines


def add_user(path: Path, name: str, password: str, *, admin: bool = False) -> None:
    """Add `name`, or replace their line (a password change; the admin flag becomes `admin`).

    Creates the file, with its header comment, if missing. Other accounts and comments
    are kept as they are.
    """
    if not password:
        raise AccountsError("empty password refused")
    line = _format_line(Account(name, hash_password(password), admin=admin))  # slow: outside the lock
    with locks.holding(path.parent):  # two edits at once cannot both start from the old file
        lines = _prepare_add(path, name, admin)
        write_private_lines(path, _replace_lines(lines, name, line))


def delete_user(path: Path, name: str) -> bool:
    """Remove `name`'s line(s); False when the file or the user isn't there."""
    with locks.holding(path.parent):
        lines = _read_lines(path, missing_ok=True)
        if lines is None or _existing_line(lines, name) is None:
            return False
        _others(path, lines, name)  # refuse to rewrite a file that is broken elsewhere
        write_private_lines(path, _replace_lines(lines, name, None))
    return True


# --- command line ----------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Declare `adduser` and `deluser` on the command line's subparsers (see webui/cli.py)."""
    users_help = f"accounts file (default: ${USERS_ENV}, else ./{DEFAULT_USERS_FILE})"
    add = commands.add_parser(
        "adduser", help="add a user, or set a new password for one",
        description="Add a user, or set a new password for an existing one. Asks for the password twice.",
    )
    add.add_argument("name", metavar="NAME", help=f"user name: {NAME_RULE}")
    add.add_argument("--admin", action="store_true", help="make this the admin account (at most one)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    add.add_argument("--users", metavar="FILE", help=users_help)
    delete = commands.add_parser("deluser", help="remove a user", description="Remove a user.")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--users", metavar="FILE", help=users_help)
    for parser in (add, delete):
        parser.set_defaults(run=run)


def _read_password(from_stdin: bool, stdin: TextIO, getpass: Callable[[str], str], name: str) -> str:
    """One line of stdin for scripts; otherwise two unechoed prompts that must agree."""
    if from_stdin:
        password = stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        try:
            password = getpass(f"Password for {name}: ")
            if password and getpass(f"Repeat the password for {name}: ") != password:
                raise AccountsError("the two passwords do not match; nothing changed")
        except EOFError:
            raise AccountsError("no password given; nothing changed") from None
    if not password:
        raise AccountsError("empty password refused; nothing changed")
    return password


def _admin_note(old_line: str | None, admin: bool) -> str:
    """Say so when a password change also changes who is admin, since `adduser` sets the flag exactly."""
    was_admin = old_line is not None and old_line.split(":")[2:] == [ADMIN_FLAG]
    if old_line is None or was_admin == admin:
        return ""
    return " (now admin)" if admin else " (no longer admin; pass --admin to keep it)"


def _adduser(
    args: argparse.Namespace, path: Path, stdin: TextIO, stdout: TextIO, getpass: Callable[[str], str]
) -> int:
    old_line = _existing_line(_prepare_add(path, args.name, args.admin), args.name)
    password = _read_password(args.password_stdin, stdin, getpass, args.name)
    add_user(path, args.name, password, admin=args.admin)
    verb = "updated" if old_line is not None else "added"
    print(f"{verb} {args.name}{_admin_note(old_line, args.admin)}", file=stdout)
    return 0


def _deluser(args: argparse.Namespace, path: Path, stdout: TextIO, stderr: TextIO) -> int:
    if not delete_user(path, args.name):
        print(f"error: no user {args.name} in {path}", file=stderr)
        return 1
    print(f"deleted {args.name}", file=stdout)
    return 0


def cli(argv: list[str], *, stdin: TextIO | None = None, stdout: TextIO | None = None,
        stderr: TextIO | None = None, **kw: Any) -> int:
    """`python launch.py adduser|deluser …` parsed by the one command line; returns the exit code."""
    from .cli import build_parser  # the command line imports this module

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors and --help this way
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    return run(args, stdout, stderr, stdin=stdin, **kw)


def run(
    args: argparse.Namespace,
    stdout: TextIO,
    stderr: TextIO,
    *,
    stdin: TextIO | None = None,
    getpass: Callable[[str], str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Run a parsed adduser/deluser; returns the exit code (0 ok, 1 refused).

    Streams default to sys.* at call time, not import time, so captured output works.
    Never prints a password or a hash.
    """
    stdin = stdin or sys.stdin
    getpass = getpass or getpass_module.getpass
    path = users_file(args.users, environ, cwd)
    try:
        if args.command == "adduser":
            return _adduser(args, path, stdin, stdout, getpass)
        return _deluser(args, path, stdout, stderr)
    except AccountsError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=stderr)
        return 130
