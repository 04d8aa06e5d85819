"""A scripted chat model: stands in for the LLM in tests and in the browser test of the app.

It answers from a queue of replies (``enqueue``) or from ``responder(messages)`` and records
every prompt it was sent in ``history``, so a test asserts on both what the model was told and
what ClinCite made of the reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    replies: list[str] = Field(default_factory=list)
    history: list[list[BaseMessage]] = Field(default_factory=list)
    responder: Callable[[list[BaseMessage]], str] | None = None
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
