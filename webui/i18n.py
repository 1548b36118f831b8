"""Every user-facing string, in English and Chinese, in one table.

Errors raised deep in the service carry a message *code* and parameters; the UI
edge renders them in the visitor's language. Labels go to `gr.I18n` so the browser
picks the language itself.
"""

from __future__ import annotations

from typing import Mapping

LANGUAGES = ("en", "zh")
FALLBACK = "en"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        # errors from the image API
        "auth": "The API key was refused (401). Check YUNYX_API_KEY in your environment or .env file, then restart the app.",
        "unknown_model": "The model “{model}” does not exist (404). Pick another model from the list.",
        "bad_request": "The image service rejected the request (400): {detail}. Check the prompt, size and seed, then try again.",
        "rate_limited": "The image service is busy (too many requests). Try again in {seconds} s.",
        "unavailable": "The image service is temporarily unavailable (HTTP {status}). Try again in a minute.",
        "timeout": "The image service did not answer within {seconds} s. Try again; if it keeps happening, start the app with a larger --timeout.",
        "expired": "The image link expired before it could be downloaded. Click Generate again.",
        "bad_image": "The image service sent something that is not a usable image ({detail}). Click Generate again.",
        "bad_response": "The image service sent an answer this app does not understand ({detail}). Try again later.",
        "connection": "Could not reach the image service ({detail}). Check your network connection and try again.",
        # bad input
        "empty_prompt": "Please type a prompt first: describe the picture you want.",
        "prompt_too_long": "The prompt is too long ({length} characters). Please shorten it to at most {limit}.",
        "bad_seed": "The seed must be a whole number from 0 to 9999999999, or -1 for random.",
        "bad_size": "Please pick one of the sizes: {sizes}.",
        "bad_model": "Please choose a model (or type a model name).",
        "bad_history_query": "The history request is invalid: offset must be 0 or more and limit between 1 and 500.",
        # local problems
        "save_failed": "The image was generated but could not be saved in the folder {folder} ({detail}). Check that the folder exists, is writable and the disk is not full.",
    },
    "zh": {
        "auth": "API 密钥被拒绝（401）。请检查环境变量或 .env 文件中的 YUNYX_API_KEY，然后重启应用。",
        "unknown_model": "模型“{model}”不存在（404）。请从列表中选择其他模型。",
        "bad_request": "图像服务拒绝了请求（400）：{detail}。请检查提示词、尺寸和种子后重试。",
        "rate_limited": "图像服务繁忙（请求过于频繁）。请在 {seconds} 秒后重试。",
        "unavailable": "图像服务暂时不可用（HTTP {status}）。请稍等一分钟后重试。",
        "timeout": "图像服务在 {seconds} 秒内没有响应。请重试；如果反复出现，请用更大的 --timeout 启动应用。",
        "expired": "图片链接在下载前已过期。请再次点击“生成”。",
        "bad_image": "图像服务返回的内容不是可用的图片（{detail}）。请再次点击“生成”。",
        "bad_response": "图像服务返回了本应用无法理解的响应（{detail}）。请稍后重试。",
        "connection": "无法连接到图像服务（{detail}）。请检查网络连接后重试。",
        "empty_prompt": "请先输入提示词：描述你想要的画面。",
        "prompt_too_long": "提示词太长（{length} 个字符）。请缩短到 {limit} 个字符以内。",
        "bad_seed": "种子必须是 0 到 9999999999 之间的整数，或填 -1 表示随机。",
        "bad_size": "请选择以下尺寸之一：{sizes}。",
        "bad_model": "请选择一个模型（或输入模型名称）。",
        "bad_history_query": "历史记录请求无效：offset 必须大于等于 0，limit 必须在 1 到 500 之间。",
        "save_failed": "图片已生成，但无法保存到文件夹 {folder}（{detail}）。请检查该文件夹是否存在、可写，以及磁盘是否已满。",
    },
}

# Labels and hints for the page, handed to gr.I18n (the browser chooses the language).
LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Text to image",
        "subtitle": "Describe a picture, pick a model and a size, and click **Generate**.",
        "prompt": "Prompt",
        "prompt_placeholder": "Describe the picture: subject, scene, style, lighting… (Enter generates, Shift+Enter adds a line)",
        "model": "Model",
        "model_info": "Pick one, or type the name of another model.",
        "size": "Size (width × height)",
        "enhance": "Prompt enhancement",
        "enhance_info": "Let the service enrich your prompt (some models only).",
        "seed": "Seed",
        "seed_info": "-1 = random. The same seed and settings give the same picture.",
        "random_seed": "Random",
        "reuse_seed": "Reuse last seed",
        "generate": "Generate",
        "result": "Result",
        "details": "Details",
        "history": "History",
        "examples": "Example prompts",
        "demo_banner": (
            "**Demo mode** — no API key is set, so pictures are local placeholders drawn by a built-in "
            "offline backend. To use the real service: put `YUNYX_API_KEY=your-key` in a `.env` file "
            "next to `launch.py` (or set it in the environment), then restart the app."
        ),
        "live_banner": "Connected to the image service with your API key (the key itself is never shown).",
        "info_line": "Seed **{seed}** · {inference} · `{file}`",
        "inference_ms": "inference {ms} ms",
        "inference_unknown": "inference time not reported",
        "size_1024x1024": "1024 × 1024 · square",
        "size_512x1024": "512 × 1024 · tall",
        "size_768x512": "768 × 512 · landscape",
        "size_768x1024": "768 × 1024 · portrait",
        "size_1024x576": "1024 × 576 · wide 16:9",
        "size_576x1024": "576 × 1024 · phone 9:16",
        "error_title": "Something went wrong",
        "warning_title": "Not saved",
        "saved_elsewhere": "Not saved to the outputs folder — download it from the image's download button.",
    },
    "zh": {
        "title": "文生图",
        "subtitle": "描述一幅画面，选择模型和尺寸，然后点击**生成**。",
        "prompt": "提示词",
        "prompt_placeholder": "描述画面：主体、场景、风格、光照……（回车生成，Shift+回车换行）",
        "model": "模型",
        "model_info": "从列表中选择，或输入其他模型名称。",
        "size": "尺寸（宽 × 高）",
        "enhance": "提示词增强",
        "enhance_info": "让服务自动丰富你的提示词（部分模型支持）。",
        "seed": "种子",
        "seed_info": "-1 表示随机。相同的种子和设置会生成相同的图片。",
        "random_seed": "随机",
        "reuse_seed": "复用上次种子",
        "generate": "生成",
        "result": "结果",
        "details": "详细信息",
        "history": "历史记录",
        "examples": "示例提示词",
        "demo_banner": (
            "**演示模式** —— 尚未设置 API 密钥，图片由内置的离线后端在本地绘制，仅作占位。"
            "要使用真实服务：在 `launch.py` 旁的 `.env` 文件中写入 `YUNYX_API_KEY=你的密钥`"
            "（或设置同名环境变量），然后重启应用。"
        ),
        "live_banner": "已使用你的 API 密钥连接到图像服务（密钥本身不会显示）。",
        "info_line": "种子 **{seed}** · {inference} · `{file}`",
        "inference_ms": "推理 {ms} 毫秒",
        "inference_unknown": "未报告推理时间",
        "size_1024x1024": "1024 × 1024 · 方形",
        "size_512x1024": "512 × 1024 · 竖长",
        "size_768x512": "768 × 512 · 横向",
        "size_768x1024": "768 × 1024 · 竖向",
        "size_1024x576": "1024 × 576 · 宽屏 16:9",
        "size_576x1024": "576 × 1024 · 手机 9:16",
        "error_title": "出错了",
        "warning_title": "未保存",
        "saved_elsewhere": "未能保存到输出文件夹——请用图片的下载按钮下载。",
    },
}


def pick_language(accept_language: str | None) -> str:
    """Choose "zh" or "en" from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return FALLBACK
    best, best_q = FALLBACK, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def message(code: str, lang: str = FALLBACK, /, **params: object) -> str:
    """Render message `code` in `lang`; unknown codes fall back to the code itself."""
    table = MESSAGES.get(lang, MESSAGES[FALLBACK])
    template = table.get(code) or MESSAGES[FALLBACK].get(code) or code
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def label(key: str, lang: str = FALLBACK, /, **params: object) -> str:
    """A label rendered server-side (for text built from values, e.g. the info line)."""
    table = LABELS.get(lang, LABELS[FALLBACK])
    template = table.get(key) or LABELS[FALLBACK][key]
    return template.format(**params) if params else template
