"""Settings: one frozen object built from the command line, the environment and `.env`.

Everything configurable lives here so the rest of the package never reads
`os.environ` or `sys.argv` itself; a test builds a `Settings` directly.

Every flag is declared once, as a `Settings` field made with `option(...)` (default,
help, metavar, environment variable, check): the `OPTIONS` table read from those fields
builds the command line (`add_options`), fills `Settings` (`settings_from`) and writes
the README's flag table (`flag_table`, checked by tests/test_docs.py), so the three
cannot drift. Like Datasette's `SETTINGS`.
"""

from __future__ import annotations

import argparse
import os
import re
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_API_BASE = "https://api.yunyx.top/v1"
KEY_ENV = "YUNYX_API_KEY"
BASE_ENV = "YUNYX_API_BASE"
AUTH_ENV = "YUNYX_AUTH"
USERS_ENV = "YUNYX_USERS"
DOTENV = ".env"
DEFAULT_USERS_FILE = "users.txt"  # where adduser/deluser write when neither --users nor $YUNYX_USERS says


class ConfigError(Exception):
    """The command line or environment asks for something the app refuses to do."""


class Secret:
    """A string that never shows itself in `repr`, `str`, logs or tracebacks.

    The API key travels inside `Settings`; wrapping it means printing the settings,
    or an exception that captured them, can't leak the key.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Option:
    """One command-line flag: what `--help`, `Settings` and the README say about it."""

    help: str  # Markdown for the README; `--help` shows it without the markup
    default: Any = None
    metavar: str | None = None
    env: str | None = None  # read when the flag is not given (environment, then .env)
    group: str | None = None  # an argparse group heading in --help
    shown: str | None = None  # the README's "default" cell when the value says too little
    check: tuple[Callable[[Any], bool], str] | None = None  # (rule, "must …") → ConfigError
    flag_name: str | None = None  # when the flag is not --<field-name>
    name: str = ""  # the Settings field; filled in by OPTIONS
    kind: type = str  # the value's type, from the field's annotation; filled in by OPTIONS

    @property
    def flag(self) -> str:
        return self.flag_name or "--" + self.name.replace("_", "-")

    def plain_help(self) -> str:
        """The help without Markdown: `--help` prints it as is."""
        text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", self.help)
        return text.replace("`", "").replace("**", "")


def option(default: Any, help: str, **kw: Any) -> Any:
    """A `Settings` field that is also a flag; see `Option` for the keywords."""
    return field(default=default, metadata={"option": Option(help, default, **kw)})


TEAMS = "teams (see README: Sharing with a team)"
LABELS = "AI labels (see README: Where images go)"
POSITIVE = (lambda v: v > 0, "must be a positive number of seconds")
NOT_NEGATIVE = (lambda v: v is None or v >= 0, "must be 0 or more")


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start; immutable so no layer can change another's view."""

    host: str = option("127.0.0.1", "address to listen on (`0.0.0.0` for your LAN)")
    port: int = option(7860, "port to listen on", check=(lambda v: 0 <= v <= 65535, "must be between 0 and 65535"))
    outputs: Path = option(Path("outputs"), "where PNGs and the history index live (created if missing)",
                           metavar="DIR")
    share: bool = option(False, "also open a public Gradio link; **needs `--auth`**")
    share_without_auth: bool = option(
        False, "allow `--share` with no login (anyone with the link spends your credit)")
    auth: tuple[str, Secret] | None = option(
        None, f"login for every visitor, local or shared (or `{AUTH_ENV}=USER:PASS`)",
        metavar="USER:PASS", env=AUTH_ENV)
    demo: bool = option(False, "use the offline demo backend even when a key is set")
    timeout: float = option(120.0, "time allowed for one API call, image download included",
                            metavar="SECONDS", check=POSITIVE)
    concurrency: int = option(4, "generations in flight at once, across all visitors; the API never sees more",
                              metavar="N", check=(lambda v: 1 <= v <= 64, "must be between 1 and 64"))
    mcp: bool = option(False, "start Gradio's MCP server too (off unless asked for)")
    allowed_hosts: str | None = option(
        None, "more host names the app answers to, comma-separated (say, `studio.lan` behind a proxy); "
        "localhost, IP addresses, `--host` and the share link always work; `*` allows any", metavar="NAMES")
    visitor_queue: int = option(
        8, "generations one visitor (a user, or a browser session without login) may have queued or running "
        "at once; more is refused at once", metavar="N", check=(lambda v: 1 <= v <= 1000, "must be between 1 and 1000"))
    users_file: Path | None = option(
        None, f"named accounts, one per line with a salted password hash (or `{USERS_ENV}`); "
        "see [Sharing with a team](#sharing-with-a-team)", metavar="FILE", env=USERS_ENV, group=TEAMS,
        flag_name="--users")
    private_history: bool = option(False, "each user sees only their own images (the admin sees all)", group=TEAMS)
    daily_limit: int | None = option(
        None, "images per user per UTC day; the admin is exempt unless `--admin-limit`", metavar="N",
        group=TEAMS, check=NOT_NEGATIVE)
    admin_limit: int | None = option(None, "daily limit for the admin account", metavar="N", group=TEAMS,
                                     check=NOT_NEGATIVE)
    label_producer: str | None = option(
        None, "`ContentProducer` in every image's AI label (e.g. the provider's registered name or code)",
        metavar="NAME", group=LABELS, shown="the API's host")
    label_propagator: str | None = option(
        None, "`ContentPropagator` in every image's AI label: the organisation running this app",
        metavar="NAME", group=LABELS, shown="the app's name")
    visible_label: bool = option(
        False, 'share packs stamp a visible "AI生成 / AI-generated" mark on their copies unless told otherwise',
        group=LABELS)
    # Not flags: the key and base come from the environment only; the rest are for tests and embedders.
    api_key: Secret | None = None
    api_base: str = DEFAULT_API_BASE
    max_retries: int = 3
    max_retry_wait: float = 30.0
    # How the service pauses between tries (Retry-After or back-off); tests inject one that records.
    retry_wait: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    extra_allowed_paths: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def demo_mode(self) -> bool:
        """Demo when asked for, or when there is no key to spend."""
        return self.demo or self.api_key is None


def _value_type(annotation: Any) -> type:
    """`int | None` → int; a type the command line cannot spell (auth's tuple) → str."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = args[0] if len(args) == 1 else str
    return annotation if annotation in (str, int, float, bool, Path) else str


def _table() -> tuple[Option, ...]:
    hints = typing.get_type_hints(Settings, globalns=globals())
    return tuple(
        replace(f.metadata["option"], name=f.name, kind=_value_type(hints[f.name]))
        for f in fields(Settings)
        if "option" in f.metadata
    )


OPTIONS: tuple[Option, ...] = _table()


def add_options(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Add the flags of `OPTIONS` (all, or the ones named) to `parser`; defaults stay in Settings."""
    groups: dict[str, Any] = {}
    for opt in OPTIONS:
        if names is not None and opt.name not in names:
            continue
        target: Any = parser
        if opt.group and names is None:
            target = groups.setdefault(opt.group, parser.add_argument_group(opt.group))
        # default=None: "not given", so settings_from can fall back to the environment, then Settings
        if opt.kind is bool:
            target.add_argument(opt.flag, dest=opt.name, action="store_true", default=None, help=opt.plain_help())
        else:
            shown = opt.shown or (None if opt.default is None else f"{opt.default:g}"
                                  if isinstance(opt.default, float) else str(opt.default))
            target.add_argument(opt.flag, dest=opt.name, type=opt.kind if opt.kind is not Path else str,
                                metavar=opt.metavar, default=None,
                                help=opt.plain_help() + (f" (default {shown})" if shown else ""))


def option_parser(**kw: Any) -> argparse.ArgumentParser:
    """The server's command line: every option, with the environment explained in the epilog."""
    parser = argparse.ArgumentParser(
        prog="python launch.py",
        description=(
            "Local web UI for the YUNYX text-to-image API. "
            f"Set the API key in the environment ({KEY_ENV}=...) or in a .env file; "
            "with no key the app runs in demo mode with a built-in offline backend."
        ),
        epilog=(
            f"Environment: {KEY_ENV} (API key, never a flag), {BASE_ENV} (default {DEFAULT_API_BASE}), "
            + ", ".join(f"{o.env} (like {o.flag})" for o in OPTIONS if o.env) + "."
        ),
        **kw,
    )
    add_options(parser)
    return parser


def flag_table() -> str:
    """The README's flag table (Markdown), from `OPTIONS`."""
    lines = ["| flag | default | meaning |", "| --- | --- | --- |"]
    for opt in OPTIONS:
        flag = f"{opt.flag} {opt.metavar}" if opt.metavar else opt.flag
        if opt.shown:
            default = opt.shown
        elif opt.kind is bool:
            default = "off"
        elif opt.default is None:
            default = "none"
        else:
            default = f"`{opt.default:g}`" if isinstance(opt.default, float) else f"`{opt.default}`"
        lines.append(f"| `{flag}` | {default} | {opt.help} |")
    return "\n".join(lines)


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse `KEY=value` lines; `#` comments, `export ` prefixes and quotes are tolerated.

    Deliberately tiny (no interpolation, no multi-line values): the file holds a key
    or two, and a dependency for that would be heavier than the parser.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        name = name.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def _parse_auth(value: str | None) -> tuple[str, Secret] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth must look like USER:PASS (both parts non-empty).")
    return user, Secret(password)


class Environment:
    """The process environment, then `.env` in the working directory; blank values count as unset."""

    def __init__(self, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.cwd = Path.cwd() if cwd is None else cwd
        self._dotenv: dict[str, str] | None = None

    def get(self, name: str) -> str | None:
        if self._dotenv is None:
            self._dotenv = read_dotenv(self.cwd / DOTENV)
        value = self.environ.get(name) or self._dotenv.get(name)
        return value.strip() if value and value.strip() else None

    def path(self, text: str) -> Path:
        """A path as typed: `~` expanded, relative ones under the working directory."""
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.cwd / path


def users_file(given: str | None, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The accounts file adduser/deluser edit: --users, else $YUNYX_USERS, else ./users.txt,
    so the command line edits the file the app reads."""
    env = Environment(environ, cwd)
    return env.path(given or env.get(USERS_ENV) or DEFAULT_USERS_FILE)


def settings_from(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Settings:
    """`Settings` from parsed flags (any subset of OPTIONS); the environment wins over `.env`,
    flags win over both, `Settings` holds the defaults.

    Raises ConfigError for values and combinations that must stop the app before any network call.
    """
    env = Environment(environ, cwd)
    values: dict[str, Any] = {}
    for opt in OPTIONS:
        given = getattr(args, opt.name, None)
        if given is None and opt.env:
            given = env.get(opt.env)
        if isinstance(given, str) and opt.kind is str:
            given = given.strip() or None
        if given is None and isinstance(opt.default, Path):
            given = str(opt.default)  # a default folder is under the working directory too
        if given is None:
            continue
        if opt.kind is Path:
            given = env.path(given)
        if opt.check and not opt.check[0](given):
            raise ConfigError(f"{opt.flag} {opt.check[1]}.")
        values[opt.name] = given
    values["auth"] = _parse_auth(values.get("auth"))
    if values["auth"] and values.get("users_file"):
        raise ConfigError("Use either --auth USER:PASS or --users FILE, not both.")
    if values.get("share") and not values["auth"] and not values.get("users_file") \
            and not values.get("share_without_auth"):
        raise ConfigError(
            "--share opens a public link that spends your API credit. Add --auth USER:PASS "
            "(or --users FILE), or pass --share-without-auth if you really mean it."
        )
    key = env.get(KEY_ENV)
    return Settings(
        **values,
        api_key=Secret(key) if key else None,
        api_base=(env.get(BASE_ENV) or DEFAULT_API_BASE).rstrip("/"),
    )


def load_settings(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """`Settings` for the web UI from its command line (see `settings_from`)."""
    return settings_from(option_parser().parse_args(argv), environ, cwd)
