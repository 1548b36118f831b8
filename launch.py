"""Start the web UI: `python launch.py --help` lists every flag and subcommand.

With no API key (environment `YUNYX_API_KEY` or a `.env` file) it runs in demo
mode against a built-in offline backend. The command line is declared in
webui/cli.py (subcommands) and webui/config.py (the web UI's flags).
"""

from __future__ import annotations

import logging
import signal
import sys
import time

from webui import cli
from webui.config import ConfigError, settings_from


def main(argv: list[str] | None = None) -> int:
    args = cli.build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is not None:
        return cli.run(args)
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from webui.redact import redact_logs

    redact_logs([settings.api_key.reveal() if settings.api_key else None])

    from webui.accounts import AccountsError
    from webui.app import create_app  # imported late: `--help` stays fast without Gradio

    try:
        app = create_app(settings)
    except (AccountsError, ConfigError) as exc:  # a bad accounts file or --outputs folder
        print(f"error: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `kill` stops as cleanly as Ctrl-C
    # SIGINT too, even where it was inherited ignored (a background job of a script): a
    # supervisor's or test's Ctrl-C would otherwise be lost and end in a kill.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _, local_url, share_url = app.launch(prevent_thread_lock=True)
        if app.demo_mode:
            print(
                "Demo mode: no API key set, pictures come from the built-in offline backend.\n"
                "  To use the real API, put YUNYX_API_KEY=your-key in a .env file here "
                "(or in the environment) and restart.",
                flush=True,
            )
        else:
            print(f"Using the image API at {settings.api_base} with your key.", flush=True)
        print(f"Images and history: {settings.outputs}", flush=True)
        print(f"Running on local URL:  {local_url}", flush=True)
        if share_url:
            print(f"Running on public URL: {share_url}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while app.blocks.is_running:  # Gradio's block_thread() would swallow Ctrl-C
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
        print("Stopped.", flush=True)
    return 0


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
