"""An optional language model that words the bot's answer from retrieved article extracts.

OFF unless ``AFTERSALES_LLM_URL`` is set (a Django setting or the environment variable, like
``AFTERSALES_LLM_MODEL``, ``AFTERSALES_LLM_API_KEY`` and ``AFTERSALES_LLM_TIMEOUT`` seconds, default 10). The endpoint speaks the OpenAI-compatible
``/chat/completions`` protocol (vLLM, Ollama, llama.cpp server, a hosted service …). The model is
only given the extracts the search found and told to answer from them alone, citing them as
``[1]``, ``[2]``; an answer that cites none of them, an error or a timeout returns ``None`` and the
bot falls back to its extractive answer. Nothing is downloaded: the endpoint is the operator's.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

CITATION = re.compile(r"\[(\d{1,2})\]")
MAX_ANSWER_CHARS = 2000

SYSTEM_PROMPT = {
    "zh-hans": (
        "你是售后服务助手。只根据下面编号的知识库摘录回答客户的问题，不要使用摘录以外的任何知识。"
        "在用到的句子后用方括号标注摘录编号，例如 [1]。如果摘录不能回答问题，只回答：无法回答。"
        "用简体中文简洁回答。"
    ),
    "en": (
        "You are an after-sales service assistant. Answer the customer's question ONLY from the "
        "numbered knowledge-base extracts below; never use knowledge outside them. Cite the extract "
        "numbers you used in square brackets, e.g. [1]. If the extracts do not answer the question, "
        "reply only: CANNOT ANSWER. Answer briefly in English."
    ),
}


@dataclass(frozen=True)
class LlmExtract:
    article_id: int
    title: str
    text: str


@dataclass(frozen=True)
class LlmAnswer:
    text: str
    cited_article_ids: list[int]


def _setting(name: str, default: str = "") -> str:
    """A Django setting if the deployment defines it, else the environment variable of that name."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, default)
    return str(value or default)


def llm_enabled() -> bool:
    return bool(_setting("AFTERSALES_LLM_URL"))


def _endpoint(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


def _user_prompt(question: str, extracts: list[LlmExtract]) -> str:
    parts = [f"[{index}] {extract.title}\n{extract.text}" for index, extract in enumerate(extracts, start=1)]
    return "Extracts:\n\n" + "\n\n".join(parts) + f"\n\nQuestion: {question}"


def llm_answer(*, question: str, extracts: list[LlmExtract], locale: str) -> LlmAnswer | None:
    """The model's answer citing at least one extract, or ``None`` (disabled, failed, cited nothing)."""
    url = _setting("AFTERSALES_LLM_URL")
    if not url or not extracts:
        return None
    endpoint = _endpoint(url)
    if urlsplit(endpoint).scheme not in ("http", "https"):
        logger.warning("AFTERSALES_LLM_URL must be an http(s) URL")
        return None
    payload = {
        "model": _setting("AFTERSALES_LLM_MODEL", "default"),
        "temperature": 0,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT.get(locale, SYSTEM_PROMPT["en"])},
            {"role": "user", "content": _user_prompt(question, extracts)},
        ],
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    api_key = _setting("AFTERSALES_LLM_API_KEY")
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        endpoint, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        timeout = float(_setting("AFTERSALES_LLM_TIMEOUT", "10"))
    except ValueError:
        timeout = 10.0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = json.loads(response.read(1_000_000).decode("utf-8"))
        content = data["choices"][0]["message"]["content"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        logger.warning("LLM request failed: %s", exc)
        return None
    if not isinstance(content, str):
        return None
    content = content.strip()[:MAX_ANSWER_CHARS]
    cited: list[int] = []
    for match in CITATION.finditer(content):
        index = int(match.group(1))
        if 1 <= index <= len(extracts) and extracts[index - 1].article_id not in cited:
            cited.append(extracts[index - 1].article_id)
    if not cited:
        return None
    return LlmAnswer(text=content, cited_article_ids=cited)
