"""The app behind a proxy that serves it under a path prefix (launched with Gradio's `root_path`).

The grids we build as HTML (Matrix, Compare) name their images relative to the page, so
they load under the prefix, as Gradio's own file URLs do; the file guard still refuses
another user's image there, and on the app's own unprefixed address (issue 16).
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import urljoin

import pytest
import requests

from .conftest import token
from .support.apps import ServedApp, settings_for
from .support.events import Events
from .support.proxy import PrefixProxy
from .support.team import login, users_file

PREFIX = "/studio"
RANGE = {"Range": "bytes=0-99"}


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory) -> Iterator[tuple[ServedApp, PrefixProxy]]:
    """A private-mode team app launched with root_path, and the proxy that serves it under it."""
    folder = tmp_path_factory.mktemp("prefixed")
    app = ServedApp(settings_for(folder, "--users", str(users_file(folder)), "--private-history"), folder,
                    root_path=PREFIX)
    proxy = PrefixProxy(app.url, PREFIX)
    yield app, proxy
    proxy.close()
    app.stop()


GRIDS = {
    "matrix": ("matrix-grid", lambda word: {"matrix-prompts": f"a red door {word}\na blue door {word}",
                                            "matrix-models": ["FLUX.1-schnell"], "matrix-sizes": ["768x512"],
                                            "matrix-both": False, "seed": 7, "tz": "UTC"}),
    "compare": ("compare-grid", lambda word: {"prompt": f"a green door {word}", "model": "FLUX.1-schnell",
                                              "size": "768x512", "enhance": False, "seed": 7, "tz": "UTC",
                                              "compare-models": ["FLUX.1-schnell"]}),
}


def grid_urls(events: Events, writes: str, values: dict[str, Any]) -> list[str]:
    """Run the page event that fills `writes` as the page would; the image and link URLs of its grid."""
    fn = events.find(reads=tuple(values), writes=(writes,))
    final = events.call(fn, events.inputs(fn, values), timeout=120)
    assert final["success"], final
    grid = final["output"]["data"][events.outputs(fn).index(writes)]
    urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", str(grid))
    assert urls, grid
    return [u.replace("&amp;", "&") for u in urls]


@pytest.mark.parametrize("kind", GRIDS)
def test_a_grids_images_load_under_the_prefix_for_their_owner_only(prefixed, kind: str) -> None:
    app, proxy = prefixed
    writes, values = GRIDS[kind]
    alice, bob = login(proxy, "alice"), login(proxy, "bob")
    urls = grid_urls(Events(proxy.url, alice), writes, values(token()))
    page = proxy.url  # the page the grid is shown on
    for url in urls:
        assert not url.startswith("/"), url  # from "/" it would leave the prefix: 404 behind the proxy
        here = urljoin(page, url)
        assert here.startswith(page + "gradio_api/file="), here
        answer = alice.get(here, timeout=30)
        assert answer.status_code == 200 and answer.content[:4] in (b"\x89PNG", b"RIFF"), (here, answer.status_code)
        # Bob, on every way to the same file: prefixed, on the app's own address, HEAD, Range.
        direct = app.url + here[len(page):]
        for target in (here, direct):
            for method, headers in (("GET", {}), ("HEAD", {}), ("GET", RANGE)):
                refused = bob.request(method, target, headers=headers, timeout=30)
                assert refused.status_code == 404, (method, target, refused.status_code)
        assert requests.get(here, timeout=30).status_code in (401, 403, 404)  # no login at all


def test_the_page_behind_the_prefix_names_its_root_there(prefixed) -> None:
    """Gradio's own URLs (its config's root) carry the prefix: the page works behind the proxy."""
    _, proxy = prefixed
    config = login(proxy, "alice").get(proxy.url + "config", timeout=30).json()
    assert config["root"].endswith(PREFIX), config["root"]
