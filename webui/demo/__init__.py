"""Demo mode: the offline image API the app starts when no key is set (or with `--demo`).

  render.py   the pictures: deterministic landscapes from (prompt, model, size, seed)
  server.py   the API on loopback: validation, bearer auth, signed expiring image URLs,
              a small render cache

It serves the API's contract and nothing else. The fault injector the tests and the
benchmarks use extends `DemoBackend` in tests/support/fake_api.py.
"""

from .server import DemoBackend

__all__ = ["DemoBackend"]
