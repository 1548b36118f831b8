"""A local web UI for a hosted text-to-image API (Gradio Blocks).

From the outside in (each module's docstring says more; README "How the code fits
together" lists what each imports, checked by tests/test_code_map.py):

  app.py            create_app(settings): the page, the REST API and the core; no global state
  cli.py            the command line: the web UI's flags and the subcommands
  config.py         Settings from flags, environment and .env, declared once in OPTIONS
  core.py           open_core(settings): demo backend or key, service, storage, generator, recipes
  ui/               one builder and wiring function per tab; no HTTP, no file I/O
  handlers/         event handlers per area; typed errors become gr.Error here only
  rest.py           /api/v1 for scripts, under the page's rules
  access.py         who may see, change and delete which image: the rules, once
  curation.py       stars, ratings, boards, bulk actions, share packs
  trash.py          the one trash: delete, list, restore, empty
  sharepack.py      ZIPs of chosen images with a contact sheet
  recipes.py        prompt recipes and matrices
  generator.py      validation and orchestration: form values → API call → saved PNG → record
  quota.py          daily limits per user
  service.py        the only HTTP client of the image API; no Gradio
  demo/             demo mode's offline API (renderer, loopback server)
  storage.py        the image store: PNG files under outputs/, recovery, thumbnails
  history.py        the SQLite index; query.py its search language
  db.py             one shared SQLite connection per file; its journal files
  locks.py          a folder held by one process at a time (index creation, accounts edits)
  query.py          the /history search language
  record.py         the fields of a saved image's record, declared once
  metadata.py       PNG chunks and A1111 infotext, writer beside parser
  formats.py        other tools' fields (ComfyUI, InvokeAI, NovelAI...)
  provenance.py     AI-content labels (XMP, TC260 AIGC)
  uploads.py        reading a visitor's file, bounded
  guard.py          what Gradio's file routes may serve
  caching.py        the file routes' browser caching
  compression.py    compression for the page itself
  hosts.py          the host names the app answers to
  asgi.py           our ASGI layers in front of Gradio's
  admission.py      each visitor's generations, capped and served in turn
  accounts.py       the accounts file
  logins.py         login throttling
  login_page.py     the login page in the visitor's language
  tokens.py         personal API tokens; the login cookie's one reader
  errors.py         every failure as data, and the one place that words it
  i18n.py           every user-facing string, English and Chinese
  redact.py         the key and bearer tokens kept out of texts and logs
  gradio_speed.py   what Gradio 6.31 spends time on, and what the app turns off
"""
