"""Put our own ASGI layers in front of everything Gradio installs, CORS included.

Middleware passed to `launch(app_kwargs={"middleware": ...})` ends up *inside* Gradio's
CORS and compression layers, which answer some requests (CORS preflights) themselves.
A layer that must see every request first is wrapped around the finished middleware
stack from the app's lifespan, which Starlette runs after building that stack and
before the server accepts the first connection.
"""

from __future__ import annotations

from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Sequence

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
Layer = Callable[[ASGIApp], ASGIApp]


def outermost(layers: Sequence[Layer]) -> Callable[[Any], Any]:
    """A lifespan for `app_kwargs`: `layers[0]` ends up outermost, then `layers[1]`, …"""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stack = app.middleware_stack or app.build_middleware_stack()
        for layer in reversed(layers):
            stack = layer(stack)
        app.middleware_stack = stack
        yield

    return lifespan


def lifespans(*handlers: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One lifespan that enters each of `handlers` in order (Gradio takes only one)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for handler in handlers:
                await stack.enter_async_context(handler(app))
            yield

    return lifespan
