"""The reference page for the first-visit figure: a FLUX.1-schnell-style Space, about as small as
a useful Gradio app gets (one prompt, one button, one image, an accordion of settings, examples).

    python bench/flux_app.py PORT

It calls no API (the page load is what is measured); the event wiring is the Space's:
one `gr.on` for the button and Enter.
"""

from __future__ import annotations

import random
import sys

import gradio as gr

MAX_SEED = 2**31 - 1


def infer(prompt: str, seed: int, randomize_seed: bool, width: int, height: int, steps: int):
    if randomize_seed:
        seed = random.randint(0, MAX_SEED)
    return None, seed


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        with gr.Column(elem_id="col-container"):
            gr.Markdown("# FLUX.1 [schnell]\n12B param rectified flow transformer distilled for 1 to 4 step generation")
            with gr.Row():
                prompt = gr.Text(label="Prompt", show_label=False, max_lines=1, placeholder="Enter your prompt",
                                 container=False, elem_id="prompt")
                run_button = gr.Button("Run", scale=0)
            result = gr.Image(label="Result", show_label=False)
            with gr.Accordion("Advanced Settings", open=False):
                seed = gr.Slider(label="Seed", minimum=0, maximum=MAX_SEED, step=1, value=0)
                randomize_seed = gr.Checkbox(label="Randomize seed", value=True)
                with gr.Row():
                    width = gr.Slider(label="Width", minimum=256, maximum=2048, step=32, value=1024)
                    height = gr.Slider(label="Height", minimum=256, maximum=2048, step=32, value=1024)
                steps = gr.Slider(label="Number of inference steps", minimum=1, maximum=50, step=1, value=4)
            gr.Examples(examples=["a tiny astronaut hatching from an egg on the moon",
                                  "a cat holding a sign that says hello world"], inputs=[prompt])
        gr.on(triggers=[run_button.click, prompt.submit], fn=infer,
              inputs=[prompt, seed, randomize_seed, width, height, steps], outputs=[result, seed])
    return demo


if __name__ == "__main__":
    build().launch(server_name="127.0.0.1", server_port=int(sys.argv[1]),
                   css="#col-container {margin: 0 auto; max-width: 520px;}")
