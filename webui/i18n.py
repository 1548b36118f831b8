"""Every user-facing string, in English and Chinese, in one table.

Errors raised deep in the service carry a message *code* and parameters;
`errors.render` words them in the visitor's language. Labels go to `gr.I18n` so the browser
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
        "daily_limit": "You have used {used} of your {limit} images for today. The limit resets at {resets}.",
        "bad_count": "The batch count must be a whole number from 1 to {limit}.",
        "too_many_variants": "That comparison would make {count} images; pick fewer models or sizes (at most {limit}).",
        "batch_partial": "{failed} of {total} images failed: {reason}",
        "not_found": "That image is no longer in the history (it may have been deleted).",
        "not_yours": "You can only delete your own images.",
        "admin_only": "Only the admin can see usage.",
        "not_a_png": "That file could not be read as an image ({detail}).",
        "bad_query_token": "The search token “{token}” is not understood. Examples: is:starred, rating:>=4, board:\"two words\", size:1024x1024, after:2026-11-01.",
        "bad_rating": "A rating is a whole number from 0 (none) to 5.",
        "bad_board_name": "A board name needs 1 to 80 characters.",
        "board_not_found": "There is no board named “{name}” that you can see.",
        "board_not_yours": "Only the board's owner can rename, share or delete the board “{name}”.",
        "board_name_taken": "You already have a board named “{name}”.",
        "nothing_chosen": "No images match: choose some images or a search that finds some.",
        "export_failed": "The share pack could not be written ({detail}). Check the free disk space and try again.",
        "bad_history_query": "The history request is invalid: offset must be 0 or more and limit between 1 and 500.",
        # prompt library and matrix
        "bad_slot": "The slot “{{{slot}}}” needs a name (letters, at most 40 characters) or choices like {{red|blue}}.",
        "missing_slot": "Fill in the slot “{slot}” first.",
        "matrix_too_big": "That matrix would make {count} images; at most {limit} at once. Remove some lines, models or sizes.",
        "too_many_lines": "{count} prompt lines; at most {limit} at once.",
        "matrix_empty_axis": "Pick at least one model and one size.",
        "recipe_not_found": "That recipe is no longer in the library.",
        "recipe_not_yours": "You can only change or delete your own recipes.",
        "recipe_needs_name": "Give the recipe a name first.",
        "matrix_over_limit": "That matrix makes {count} images but you have {left} left today. Make it smaller or wait until tomorrow.",
        "pick_recipe": "Pick a recipe from the library first.",
        "recipe_saved": "Saved “{name}” in the prompt library.",
        "library_imported": "Added {count} recipes to the library.",
        "bad_library_file": "That file is not a recipe library exported from this app (a JSON file with a list of recipes).",
        # local problems
        "save_failed": "The image was generated but could not be saved in the folder {folder} ({detail}). Check that the folder exists, is writable and the disk is not full.",
        "internal": "Something went wrong inside this app: internal error (details in the log). Try again; if it keeps happening, tell whoever runs the app.",
        "not_indexed": "The image is saved as {file}, but the history list could not be updated at once; it is added again before the next listing.",
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
        "daily_limit": "你今天的 {limit} 张图片额度已用 {used} 张。额度将在 {resets} 重置。",
        "bad_count": "批量数量必须是 1 到 {limit} 之间的整数。",
        "too_many_variants": "这个对比会生成 {count} 张图片；请减少模型或尺寸（最多 {limit} 张）。",
        "batch_partial": "{total} 张中有 {failed} 张失败：{reason}",
        "not_found": "这张图片已不在历史记录中（可能已被删除）。",
        "not_yours": "你只能删除自己的图片。",
        "admin_only": "只有管理员可以查看用量。",
        "not_a_png": "无法读取该文件（{detail}）。",
        "bad_query_token": "无法理解搜索条件“{token}”。例如：is:starred、rating:>=4、board:\"两个词\"、size:1024x1024、after:2026-11-01。",
        "bad_rating": "评分是 0（未评分）到 5 之间的整数。",
        "bad_board_name": "画板名称需要 1 到 80 个字符。",
        "board_not_found": "没有你能看到的名为“{name}”的画板。",
        "board_not_yours": "只有画板“{name}”的创建者才能重命名、共享或删除它。",
        "board_name_taken": "你已经有一个名为“{name}”的画板。",
        "nothing_chosen": "没有匹配的图片：请选择图片，或使用能找到图片的搜索。",
        "export_failed": "无法写出分享包（{detail}）。请检查磁盘剩余空间后重试。",
        "bad_history_query": "历史记录请求无效：offset 必须大于等于 0，limit 必须在 1 到 500 之间。",
        "bad_slot": "占位符“{{{slot}}}”需要一个名称（最多 40 个字符）或像 {{红|蓝}} 这样的选项。",
        "missing_slot": "请先填写占位符“{slot}”。",
        "matrix_too_big": "这个矩阵会生成 {count} 张图片；一次最多 {limit} 张。请减少几行提示词、模型或尺寸。",
        "too_many_lines": "共 {count} 行提示词；一次最多 {limit} 行。",
        "matrix_empty_axis": "请至少选择一个模型和一个尺寸。",
        "recipe_not_found": "这个配方已不在配方库中。",
        "recipe_not_yours": "你只能修改或删除自己的配方。",
        "recipe_needs_name": "请先给配方起个名字。",
        "matrix_over_limit": "这个矩阵会生成 {count} 张图片，但你今天只剩 {left} 张。请缩小矩阵或明天再试。",
        "pick_recipe": "请先从配方库中选择一个配方。",
        "recipe_saved": "已将“{name}”保存到提示词配方库。",
        "library_imported": "已向配方库添加 {count} 个配方。",
        "bad_library_file": "这个文件不是从本应用导出的配方库（一个包含配方列表的 JSON 文件）。",
        "save_failed": "图片已生成，但无法保存到文件夹 {folder}（{detail}）。请检查该文件夹是否存在、可写，以及磁盘是否已满。",
        "internal": "应用内部出错：内部错误（详情见日志）。请重试；如果反复出现，请告诉运行本应用的人。",
        "not_indexed": "图片已保存为 {file}，但历史列表未能立即更新；下次列出历史时会再次加入。",
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
            "**Demo mode** — no API key is set, so pictures are local placeholders drawn by a "
            "built-in offline backend. To use the real service:\n\n"
            "1. Create a file named `.env` next to `launch.py` with the line `YUNYX_API_KEY=your-key` "
            "(or set the environment variable `YUNYX_API_KEY`).\n"
            "2. Stop the app (Ctrl-C in its terminal) and start it again with `python launch.py`."
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
        "tab_generate": "Generate",
        "tab_history": "History",
        "tab_compare": "Compare",
        "tab_pnginfo": "PNG Info",
        "stop": "Stop",
        "recent": "Recent images",
        "batch": "Batch",
        "batch_count": "Images per click",
        "batch_random": "New random seed for each image (otherwise seed, seed+1, …)",
        "batch_results": "This batch",
        "help_title": "Prompt tips",
        "help_text": (
            "1. **Be clear and specific**: say what the picture shows.\n"
            "2. **Add the details that matter**: the scene, the style, the lighting.\n"
            "3. **Use art-style words**: *oil painting*, *watercolor*, *photo, 35 mm*, *ink drawing*.\n"
            "4. **Prompt enhancement** often gives better results (some models only).\n"
            "5. **Keep the seed** to get the same picture again; change one word at a time to see its effect."
        ),
        "search": "Search prompts",
        "search_placeholder": "a word from the prompt…",
        "filter_model": "Model",
        "all_models": "All models",
        "all_sizes": "All sizes",
        "all_users": "Everyone",
        "tab_usage": "Usage",
        "signed_in_as": "Signed in as **{user}**",
        "logout": "Log out",
        "usage_intro": "Images per user, per day and per model over the last 30 days, with the inference time the API reported. Only the admin sees this tab.",
        "usage_refresh": "Refresh",
        "usage_day": "Day (UTC)",
        "usage_user": "User",
        "usage_model": "Model",
        "usage_images": "Images",
        "usage_inference": "Avg inference (ms)",
        "filter_user": "Made by",
        "filter_size": "Size",
        "only_mine": "Only my images",
        "prev": "← Newer",
        "next": "Older →",
        "page_of": "Page {page} of {pages} · {total} found",
        "history_image": "Selected image",
        "history_details": "Settings",
        "reuse": "Reuse settings",
        "variation": "Variation (new seed)",
        "delete": "Delete…",
        "delete_question": "Move this image to the trash folder `outputs/.trash/`? You can move it back from there.",
        "delete_confirm": "Yes, move to trash",
        "cancel": "Cancel",
        "file_location": "File: `{file}`  \nFolder: `{folder}`",
        "deleted": "Moved to the trash: {path}",
        "compare_intro": "The prompt and seed come from the **Generate** tab; only what you tick below changes, so every difference in the grid comes from it.",
        "compare_models": "Models",
        "compare_sizes": "Sizes",
        "compare_enhance": "Prompt enhancement off and on",
        "compare_run": "Compare",
        "compare_grid": "Side by side",
        "pnginfo_file": "Drop a PNG here (from this app, Stable Diffusion web UI, ComfyUI, …)",
        "pnginfo_summary": "What's inside",
        "pnginfo_parameters": "parameters (A1111 infotext)",
        "pnginfo_json": "JSON chunks (generation, ComfyUI prompt and workflow)",
        "pnginfo_chunks": "Other text chunks",
        "pnginfo_send": "Send to Generate",
        "pnginfo_ours": "Made by this app: every setting is in its `generation` chunk.",
        "pnginfo_a1111": "Stable Diffusion web UI (A1111) parameters.",
        "pnginfo_comfyui": "A ComfyUI workflow, shown as text.",
        "pnginfo_other": "Text chunks from another program.",
        "pnginfo_none": "This PNG carries no text chunks.",
        "pnginfo_no_fields": "Nothing in it maps onto the Generate form.",
        "error_title": "Something went wrong",
        "toast_error": "Error",
        "toast_warning": "Warning",
        "toast_info": "Info",
        "toast_success": "Done",
        "progress_generating": "Generating… {done} of {total} done",
        "enhance_on": "enhancement on",
        "enhance_off": "enhancement off",
        "warning_title": "Not saved",
        "saved_elsewhere": "Not saved to the outputs folder — download it from the image's download button.",
        # prompt library and matrix
        "library": "Prompt library",
        "recipe": "Recipe",
        "recipe_info": "Saved prompts with {slots} to fill. Pick one, fill the slots, then Use in prompt.",
        "recipe_text": "Recipe text",
        "slot_choice": "Choice",
        "use_recipe": "Use in prompt",
        "save_recipe": "Save prompt as recipe",
        "recipe_name": "Recipe name",
        "recipe_name_placeholder": "e.g. Product on a surface",
        "recipe_shared": "Share with the team",
        "delete_recipe": "Delete recipe",
        "export_library": "Download library (JSON)",
        "import_library": "Import library…",
        "recipe_uses": "used {uses}×",
        "tab_matrix": "Matrix",
        "matrix_intro": "Paste prompts, one per line (or pick a recipe and give several values per slot), tick models and sizes: every prompt is made with every setting, with one seed for the whole grid, so each difference is the setting's own.",
        "matrix_prompts": "Prompts, one per line",
        "matrix_slots": "Slot values (one slot per line: name: value | value | value)",
        "matrix_models": "Models (columns)",
        "matrix_sizes": "Sizes (columns)",
        "matrix_both": "Prompt enhancement off and on",
        "matrix_run": "Make the matrix",
        "matrix_count": "This makes {count} images ({rows} rows × {columns} columns).",
        "matrix_left": "You have {left} left today.",
        "matrix_caption": "Seed {seed} for every cell. Click a picture to open it full size.",
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
            "要使用真实服务：\n\n"
            "1. 在 `launch.py` 旁新建名为 `.env` 的文件，写入一行 `YUNYX_API_KEY=你的密钥`"
            "（或设置环境变量 `YUNYX_API_KEY`）。\n"
            "2. 停止应用（在它的终端里按 Ctrl-C），再用 `python launch.py` 重新启动。"
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
        "tab_generate": "生成",
        "tab_history": "历史",
        "tab_compare": "对比",
        "tab_pnginfo": "PNG 信息",
        "stop": "停止",
        "recent": "最近的图片",
        "batch": "批量",
        "batch_count": "每次点击生成张数",
        "batch_random": "每张使用新的随机种子（否则为 种子、种子+1、……）",
        "batch_results": "本批图片",
        "help_title": "提示词技巧",
        "help_text": (
            "1. **清晰、具体**：说清楚画面里有什么。\n"
            "2. **写出重要细节**：场景、风格、光照。\n"
            "3. **使用艺术风格词**：*油画*、*水彩*、*35 毫米照片*、*水墨*。\n"
            "4. 开启**提示词增强**通常效果更好（部分模型支持）。\n"
            "5. **保留种子**可以再次得到同一张图；每次只改一个词，就能看出它的作用。"
        ),
        "search": "搜索提示词",
        "search_placeholder": "提示词中的一个词……",
        "filter_model": "模型",
        "all_models": "全部模型",
        "all_sizes": "全部尺寸",
        "all_users": "所有人",
        "tab_usage": "用量",
        "signed_in_as": "已登录：**{user}**",
        "logout": "退出登录",
        "usage_intro": "最近 30 天每个用户、每天、每个模型生成的图片数，以及 API 报告的推理时间。只有管理员能看到此页。",
        "usage_refresh": "刷新",
        "usage_day": "日期（UTC）",
        "usage_user": "用户",
        "usage_model": "模型",
        "usage_images": "图片数",
        "usage_inference": "平均推理（毫秒）",
        "filter_user": "创建者",
        "filter_size": "尺寸",
        "only_mine": "只看我的图片",
        "prev": "← 较新",
        "next": "较早 →",
        "page_of": "第 {page}/{pages} 页 · 共 {total} 张",
        "history_image": "选中的图片",
        "history_details": "设置",
        "reuse": "复用设置",
        "variation": "变体（新种子）",
        "delete": "删除……",
        "delete_question": "把这张图片移到回收文件夹 `outputs/.trash/`？之后可以从那里移回。",
        "delete_confirm": "是，移到回收站",
        "cancel": "取消",
        "file_location": "文件：`{file}`  \n文件夹：`{folder}`",
        "deleted": "已移到回收站：{path}",
        "compare_intro": "提示词和种子取自**生成**页；只有下面勾选的项目会变化，所以网格中的差异都来自它们。",
        "compare_models": "模型",
        "compare_sizes": "尺寸",
        "compare_enhance": "提示词增强 关 和 开",
        "compare_run": "对比",
        "compare_grid": "并排对比",
        "pnginfo_file": "把 PNG 拖到这里（来自本应用、Stable Diffusion web UI、ComfyUI 等）",
        "pnginfo_summary": "文件内容",
        "pnginfo_parameters": "parameters（A1111 参数文本）",
        "pnginfo_json": "JSON 块（generation、ComfyUI 的 prompt 和 workflow）",
        "pnginfo_chunks": "其他文本块",
        "pnginfo_send": "发送到生成页",
        "pnginfo_ours": "由本应用生成：所有设置都在 `generation` 块中。",
        "pnginfo_a1111": "Stable Diffusion web UI（A1111）参数。",
        "pnginfo_comfyui": "ComfyUI 工作流，以文本显示。",
        "pnginfo_other": "来自其他程序的文本块。",
        "pnginfo_none": "这个 PNG 不含文本块。",
        "pnginfo_no_fields": "其中没有可以填入生成表单的内容。",
        "error_title": "出错了",
        "toast_error": "出错了",
        "toast_warning": "注意",
        "toast_info": "提示",
        "toast_success": "完成",
        "progress_generating": "生成中……已完成 {done}/{total}",
        "enhance_on": "增强开",
        "enhance_off": "增强关",
        "warning_title": "未保存",
        "saved_elsewhere": "未能保存到输出文件夹——请用图片的下载按钮下载。",
        "library": "提示词配方库",
        "recipe": "配方",
        "recipe_info": "保存的提示词，可带 {占位符}。选择一个，填好占位符，然后点“用作提示词”。",
        "recipe_text": "配方内容",
        "slot_choice": "选项",
        "use_recipe": "用作提示词",
        "save_recipe": "把提示词存为配方",
        "recipe_name": "配方名称",
        "recipe_name_placeholder": "例如：桌面上的产品",
        "recipe_shared": "与团队共享",
        "delete_recipe": "删除配方",
        "export_library": "下载配方库（JSON）",
        "import_library": "导入配方库…",
        "recipe_uses": "已用 {uses} 次",
        "tab_matrix": "矩阵",
        "matrix_intro": "粘贴提示词，每行一个（或选择一个配方，为每个占位符填几个值），勾选模型和尺寸：每个提示词都会用每种设置生成，整张网格使用同一个种子，因此每处差异都只来自设置本身。",
        "matrix_prompts": "提示词，每行一个",
        "matrix_slots": "占位符的值（每行一个占位符：名称: 值 | 值 | 值）",
        "matrix_models": "模型（列）",
        "matrix_sizes": "尺寸（列）",
        "matrix_both": "提示词增强：关闭和开启各一次",
        "matrix_run": "生成矩阵",
        "matrix_count": "将生成 {count} 张图片（{rows} 行 × {columns} 列）。",
        "matrix_left": "你今天还剩 {left} 张。",
        "matrix_caption": "每格都使用种子 {seed}。点击图片可查看原图。",
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
