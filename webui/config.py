"""Settings: one frozen object built from the command line, the environment and `.env`.

Everything configurable lives here so the rest of the package never reads
`os.environ` or `sys.argv` itself; a test builds a `Settings` directly.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

DEFAULT_API_BASE = "https://api.yunyx.top/v1"
KEY_ENV = "YUNYX_API_KEY"
BASE_ENV = "YUNYX_API_BASE"
AUTH_ENV = "YUNYX_AUTH"
USERS_ENV = "YUNYX_USERS"
DOTENV = ".env"


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
class Settings:
    """Everything the app needs to start; immutable so no layer can change another's view."""

    outputs: Path = Path("outputs")
    api_key: Secret | None = None
    api_base: str = DEFAULT_API_BASE
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    share_without_auth: bool = False
    auth: tuple[str, Secret] | None = None
    demo: bool = False
    timeout: float = 120.0
    concurrency: int = 4
    mcp: bool = False
    users_file: Path | None = None
    private_history: bool = False
    daily_limit: int | None = None
    admin_limit: int | None = None
    max_retries: int = 3
    max_retry_wait: float = 30.0
    # How the service pauses between tries (Retry-After or back-off); tests inject one that records.
    retry_wait: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    extra_allowed_paths: tuple[Path, ...] = field(default_factory=tuple)
    label_producer: str | None = None  # AI label's ContentProducer; None: the API's host
    label_propagator: str | None = None  # AI label's ContentPropagator; None: this app's name
    visible_label: bool = False  # share packs stamp a visible "AI生成 / AI-generated" by default

    @property
    def demo_mode(self) -> bool:
        """Demo when asked for, or when there is no key to spend."""
        return self.demo or self.api_key is None

    @property
    def index_path(self) -> Path:
        return self.outputs / "history.sqlite3"


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python launch.py",
        description=(
            "Local web UI for the YUNYX text-to-image API. "
            f"Set the API key in the environment ({KEY_ENV}=...) or in a .env file; "
            "with no key the app runs in demo mode with a built-in offline backend."
        ),
        epilog=(
            f"Environment: {KEY_ENV} (API key, never a flag), {BASE_ENV} "
            f"(default {DEFAULT_API_BASE}), {AUTH_ENV} (USER:PASS, like --auth). "
            "Subcommands: generate, usage, adduser, deluser (e.g. python launch.py generate --help)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--outputs", default="outputs", metavar="DIR",
                        help="folder for PNGs and the history index (default ./outputs, created if missing)")
    parser.add_argument("--share", action="store_true",
                        help="also open a public Gradio share link (needs --auth)")
    parser.add_argument("--share-without-auth", action="store_true",
                        help="allow --share with no login: anyone with the link spends your API credit")
    parser.add_argument("--auth", metavar="USER:PASS",
                        help=f"login required for every visitor, local or shared (or {AUTH_ENV})")
    parser.add_argument("--demo", action="store_true",
                        help="use the built-in offline backend even when a key is set")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                        help="seconds allowed for one API call (default 120)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N",
                        help="generations in flight at once, across all visitors (default 4)")
    parser.add_argument("--mcp", action="store_true",
                        help="also start Gradio's MCP server (off unless asked for)")
    team = parser.add_argument_group("teams (see README: Sharing with a team)")
    team.add_argument("--users", metavar="FILE",
                      help=f"accounts file, one NAME:HASH[:admin] per line (or {USERS_ENV}); "
                           "manage it with: python launch.py adduser NAME")
    team.add_argument("--private-history", action="store_true",
                      help="each user sees only their own images (the admin sees all)")
    team.add_argument("--daily-limit", type=int, metavar="N",
                      help="images per user per UTC day (the admin is exempt unless --admin-limit)")
    team.add_argument("--admin-limit", type=int, metavar="N", help="daily limit for the admin account")
    labels = parser.add_argument_group("AI labels (see README: Where images go)")
    labels.add_argument("--label-producer", metavar="NAME",
                        help="ContentProducer in every image's AI label (default: the API's host name)")
    labels.add_argument("--label-propagator", metavar="NAME",
                        help="ContentPropagator in every image's AI label: who runs this app "
                             "(default: the app's name)")
    labels.add_argument("--visible-label", action="store_true",
                        help="share packs stamp a visible 'AI生成 / AI-generated' mark on their copies by default")
    return parser


def _parse_auth(value: str | None) -> tuple[str, Secret] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("--auth must look like USER:PASS (both parts non-empty).")
    return user, Secret(password)


def load_settings(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Build `Settings`; the environment wins over `.env`, flags win over both.

    Raises ConfigError for combinations that must stop the app before any network call.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    args = build_parser().parse_args(argv)
    dotenv = read_dotenv(cwd / DOTENV)

    def env(name: str) -> str | None:
        value = environ.get(name) or dotenv.get(name)
        return value.strip() if value and value.strip() else None

    key = env(KEY_ENV)
    auth = _parse_auth(args.auth or env(AUTH_ENV))
    users = args.users or env(USERS_ENV)
    users_file = _absolute(Path(users).expanduser(), cwd) if users else None
    if auth and users_file:
        raise ConfigError("Use either --auth USER:PASS or --users FILE, not both.")
    if args.share and auth is None and users_file is None and not args.share_without_auth:
        raise ConfigError(
            "--share opens a public link that spends your API credit. Add --auth USER:PASS "
            "(or --users FILE), or pass --share-without-auth if you really mean it."
        )
    for name in ("daily_limit", "admin_limit"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be 0 or more.")
    if args.timeout <= 0:
        raise ConfigError("--timeout must be a positive number of seconds.")
    if not 1 <= args.concurrency <= 64:
        raise ConfigError("--concurrency must be between 1 and 64.")
    if not 0 <= args.port <= 65535:
        raise ConfigError("--port must be between 0 and 65535.")
    return Settings(
        outputs=_absolute(Path(args.outputs).expanduser(), cwd),
        api_key=Secret(key) if key else None,
        api_base=(env(BASE_ENV) or DEFAULT_API_BASE).rstrip("/"),
        host=args.host,
        port=args.port,
        share=args.share,
        share_without_auth=args.share_without_auth,
        auth=auth,
        demo=args.demo,
        timeout=args.timeout,
        concurrency=args.concurrency,
        mcp=args.mcp,
        users_file=users_file,
        private_history=args.private_history,
        daily_limit=args.daily_limit,
        admin_limit=args.admin_limit,
        label_producer=(args.label_producer or "").strip() or None,
        label_propagator=(args.label_propagator or "").strip() or None,
        visible_label=args.visible_label,
    )


def _absolute(path: Path, cwd: Path) -> Path:
    return path if path.is_absolute() else cwd / path
