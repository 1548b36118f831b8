"""A local web UI for a hosted text-to-image API (Gradio Blocks).

Layers, each in its own module:
config (settings from CLI/env/.env) → service (HTTP to the image API) →
metadata (PNG chunks and infotext) → storage (files and the history index) →
generator (validation + orchestration) → ui (Gradio Blocks) → app (create_app).
"""
