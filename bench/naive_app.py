"""The baseline: the small Gradio app a user would write from the API page.

Run: NAIVE_API_BASE=http://.../v1 NAIVE_API_KEY=sk-... python bench/naive_app.py 7861
Saves each picture (with an A1111-style "parameters" text) into ./outputs and returns
the PIL image to a default gr.Image(), which Gradio re-encodes to WebP.
"""

import os
import sys
import time
from io import BytesIO

import gradio as gr
import requests
from PIL import Image
from PIL.PngImagePlugin import PngInfo

BASE = os.environ.get("NAIVE_API_BASE", "https://api.yunyx.top/v1")
KEY = os.environ.get("NAIVE_API_KEY", "")
OUT = os.environ.get("NAIVE_OUTPUTS", "outputs")


def generate(prompt, model, image_size, prompt_enhancement, seed):
    body = {"model": model, "prompt": prompt, "image_size": image_size,
            "prompt_enhancement": prompt_enhancement, "seed": int(seed)}
    r = requests.post(f"{BASE}/images/generations", headers={"Authorization": f"Bearer {KEY}"}, json=body)
    r.raise_for_status()
    url = r.json()["images"][0]["url"].replace("\\u0026", "&")
    img = Image.open(BytesIO(requests.get(url).content))
    info = PngInfo()
    info.add_text("parameters", f"{prompt}\nSeed: {seed}, Size: {image_size}, Model: {model}")
    os.makedirs(OUT, exist_ok=True)
    img.save(os.path.join(OUT, f"{int(time.time() * 1000)}-{int(seed)}.png"), pnginfo=info)
    return img


demo = gr.Interface(
    generate,
    inputs=[gr.Textbox(label="Prompt"),
            gr.Dropdown(["FLUX.1-schnell", "stable-diffusion-3-5-large"], value="FLUX.1-schnell", label="Model"),
            gr.Dropdown(["1024x1024", "512x1024", "768x512", "768x1024", "1024x576", "576x1024"],
                        value="1024x1024", label="Size"),
            gr.Checkbox(label="Prompt enhancement"),
            gr.Number(value=0, precision=0, label="Seed")],
    outputs=gr.Image(),
    api_name="generate",
)

if __name__ == "__main__":
    demo.launch(server_port=int(sys.argv[1]) if len(sys.argv) > 1 else 7860)
