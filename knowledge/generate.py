"""Optional LLM answers: a LangChain chat model writes from the retrieved passages only."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from knowledge.chunk import Chunk

log = logging.getLogger(__name__)

PROMPT_FILE = Path(__file__).resolve().parent.parent / "prompts" / "answer.md"
# The model says this when the passages do not answer the question; we then decline instead of guessing.
NOT_FOUND = "NOT_IN_GUIDELINE"


class AnswerWriter:
    """Writes a short answer with `init_chat_model`; any error or timeout yields None (extractive fallback)."""

    def __init__(
        self, *, model: str, base_url: str | None = None, api_key: str | None = None, timeout_s: float = 20.0
    ) -> None:
        self.model_id = model
        self.base_url = base_url
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.system_prompt = PROMPT_FILE.read_text(encoding="utf-8")
        self._model: Any = None

    def _chat_model(self) -> Any:
        if self._model is None:
            from langchain.chat_models import init_chat_model  # heavy import, paid only when an LLM is set

            kwargs: dict[str, Any] = {"timeout": self.timeout_s, "max_retries": 0, "temperature": 0}
            if self.base_url:
                kwargs["base_url"] = self.base_url
            if self.api_key:
                kwargs["api_key"] = self.api_key
            self._model = init_chat_model(self.model_id, **kwargs)
        return self._model

    async def write(self, question: str, *, lang: str, passages: list[Chunk]) -> str | None:
        """The model's answer, "" when it finds no answer in the passages, None when it failed."""
        context = "\n\n".join(f"[{c.section} / {c.title}]\n{c.plain_text}" for c in passages)
        language = "Chinese (简体中文)" if lang == "zh" else "English"
        messages = [
            ("system", self.system_prompt.format(not_found=NOT_FOUND, language=language)),
            ("human", f"Passages:\n{context}\n\nQuestion: {question}"),
        ]
        try:
            reply = await asyncio.wait_for(self._chat_model().ainvoke(messages), timeout=self.timeout_s)
        except Exception as exc:  # any failure of the model is a reason to fall back, never to fail the user
            log.warning("LLM %s failed (%s: %s); using the extractive answer", self.model_id, type(exc).__name__, exc)
            return None
        text = str(getattr(reply, "content", "") or "").strip()
        if not text:
            log.warning("LLM %s returned nothing; using the extractive answer", self.model_id)
            return None
        return "" if NOT_FOUND in text else text
