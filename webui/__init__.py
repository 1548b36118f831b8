"""A local web UI for a hosted text-to-image API (Gradio Blocks).

From the outside in (each module's docstring says more; README "How the code fits together"):

  app.py            create_app(settings): the page, the REST API and the core; no global state
  config.py         Settings from flags, environment and .env, declared once in OPTIONS
  cli.py            the command line: the web UI's flags and the subcommands
  ui/               one builder and wiring function per tab; no HTTP, no file I/O
  handlers/         event handlers per area; typed errors become gr.Error here only
  rest.py           /api/v1 for scripts, under the page's rules
  core.py           open_core(settings): demo backend or key, service, storage, generator
  generator.py      validation and orchestration: form values → API call → saved PNG → record
  quota.py          daily limits per user
  curation.py       stars, ratings, boards, trash
  recipes.py        prompt recipes and matrices
  sharepack.py      ZIPs of chosen images with a contact sheet
  service.py        the only HTTP client of the image API; no Gradio
  demo/             demo mode's offline API (renderer, loopback server)
  storage.py        PNG files under outputs/ and the history index
  history.py        the SQLite index; query.py its search language
  record.py         the fields of a saved image's record, declared once
  metadata.py       PNG chunks and A1111 infotext, writer beside parser; formats.py other tools' fields
  provenance.py     AI-content labels (XMP, TC260 AIGC)
  uploads.py        reading a visitor's file, bounded
  guard.py          what Gradio's file routes may serve; caching.py their browser caching
  accounts.py       the accounts file
  errors.py         every failure as data, and the one place that words it; i18n.py the words
  redact.py         the key and bearer tokens kept out of texts and logs
  gradio_speed.py   what Gradio 6.31 spends time on, and what the app turns off
"""
