"""Usage for the admin: images per user, per day and per model, with the API's inference time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gradio as gr

from .. import i18n
from ..quota import USAGE_DAYS, Quota
from .common import language, refuse, user_of

HEADERS = ("day", "user", "model", "images", "inference")


@dataclass
class UsageHandlers:
    quota: Quota  # its clock says which days are the last 30
    is_admin: Callable[[str | None], bool]

    def visible(self, request: gr.Request) -> gr.Tab:
        """The Usage tab exists for the admin only."""
        return gr.Tab(visible=self.is_admin(user_of(request)))

    def table(self, request: gr.Request) -> gr.Dataframe:
        """Rows for the last 30 days; refused (server-side too) unless the visitor is the admin.

        Headers are set here, in the visitor's language: a Dataframe can't take i18n keys.
        """
        lang = language(request)
        if not self.is_admin(user_of(request)):
            raise refuse("admin_only", lang)
        return gr.Dataframe(value=self.rows(), headers=[i18n.label(f"usage_{c}", lang) for c in HEADERS])

    def rows(self) -> list[list[Any]]:
        return [
            [r["day"], r.get("user") or "-", r["model"], r["images"],
             None if r.get("avg_inference_ms") is None else round(r["avg_inference_ms"])]
            for r in self.quota.usage(days=USAGE_DAYS)
        ]
