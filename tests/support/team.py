"""A team on one link: the users, their passwords and the ways a test logs in as one of them.

The suite's usual team is alice, bob and carol (the admin); a test that needs others passes
its own `passwords` (and `admin`, or None for nobody).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import requests
from gradio_client import Client

from webui.accounts import add_user

from .apps import api_client

PASSWORDS = {"alice": "alice-pass-4242", "bob": "bob-pass-9191", "carol": "carol-admin-7373"}
ADMIN = "carol"


def users_file(folder: Path, passwords: Mapping[str, str] = PASSWORDS, admin: str | None = ADMIN) -> Path:
    """`folder/users.txt` with every user in `passwords` (`admin` the admin), as `launch.py adduser` writes it."""
    path = folder / "users.txt"
    for name, password in passwords.items():
        add_user(path, name, password, admin=(name == admin))
    return path


def member(app: Any, name: str, passwords: Mapping[str, str] = PASSWORDS, **options: Any) -> Client:
    """A gradio_client logged in as `name` on `app` (anything with a `url`)."""
    return api_client(app.url, auth=(name, passwords[name]), **options)


def login(app: Any, name: str, passwords: Mapping[str, str] = PASSWORDS) -> requests.Session:
    """A requests session with `name`'s login cookie on `app`, as a browser holds it."""
    session = requests.Session()
    answer = session.post(app.url + "login", data={"username": name, "password": passwords[name]}, timeout=10)
    assert answer.ok, answer.text
    return session
