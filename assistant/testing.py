"""A scripted chat model: stands in for the LLM in tests and in the browser test of the app.

It answers from a queue of replies (``enqueue``), else from ``responder(messages)`` (by default
an extractive stand-in, see ``extractive_reply``), and records
every prompt it was sent in ``history``, so a test asserts on both what the model was told and
what ClinCite made of the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

_PASSAGE_RE = re.compile(r'<passage n="(\d+)" title="([^"]*)">\n(.*?)\n</passage>', re.S)
_PLAIN_RE = re.compile(r"^\[(\d+)\] (.*?)(?=\n\n\[\d+\] |\n\nQuestion:)", re.S | re.M)
_QUESTION_RE = re.compile(r"Question: (.*)")


def extractive_reply(messages: list[BaseMessage]) -> str:
    """A stand-in for a real LLM when no reply is queued: quote the passage sentence that
    shares the most words with the question, with its [n]; refuse when nothing overlaps.
    Deterministic, so the app and CLI can be exercised end to end without a model."""
    from ingest.keywords import support_units
    from ingest.text import split_sentences

    from .citations import REFUSAL

    prompt = str(messages[-1].content)
    question = _QUESTION_RE.search(prompt)
    if not question:  # condense / translate prompts: echo the question line
        lines = [ln for ln in prompt.splitlines() if ln.strip()]
        return lines[-2].split(":", 1)[-1].strip() if len(lines) > 1 else prompt
    wanted = support_units(question.group(1))
    best: tuple[int, str, str] = (0, "", "")  # (overlap, passage number, sentence)
    blocks = _PASSAGE_RE.findall(prompt) or [(n, "", t) for n, t in _PLAIN_RE.findall(prompt)]
    best_score = 0.0
    for n, title, text in blocks:
        bonus = 0.01 * len(support_units(title) & wanted)  # the title only breaks ties
        for span in split_sentences(text):
            sentence = text[span.start:span.end]
            overlap = len(support_units(sentence) & wanted)
            if overlap >= 2 and overlap + bonus > best_score:
                best_score = overlap + bonus
                best = (overlap, n, sentence)
    if best[0] < 2:
        zh = any("\u4e00" <= ch <= "\u9fff" for ch in question.group(1))
        return REFUSAL["zh" if zh else "en"]
    return f"{best[2]} [{best[1]}]"


class ScriptedChatModel(BaseChatModel):
    replies: list[str] = Field(default_factory=list)
    history: list[list[BaseMessage]] = Field(default_factory=list)
    responder: Callable[[list[BaseMessage]], str] | None = Field(
        default_factory=lambda: extractive_reply)
    default_reply: str = "The indexed documents do not answer this question."

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def enqueue(self, *replies: str) -> ScriptedChatModel:
        self.replies.extend(replies)
        return self

    def _next(self, messages: list[BaseMessage]) -> str:
        self.history.append(list(messages))
        if self.replies:
            return self.replies.pop(0)
        if self.responder is not None:
            return self.responder(messages)
        return self.default_reply

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(
            content=self._next(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        text = self._next(messages)
        # stream word by word (and character by character for CJK) like a real model
        piece = ""
        for ch in text:
            piece += ch
            if ch in " \n" or ord(ch) > 0x2E80:
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
                piece = ""
        if piece:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def scripted_chat_model(value: str, settings: Any) -> ScriptedChatModel:
    """``CLINCITE_LLM__MODEL=fake``: the chat-model registry's entry for the scripted model
    (``assistant.models.CHAT_MODELS``)."""
    return ScriptedChatModel()
