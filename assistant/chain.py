"""The answering chain: condense -> retrieve -> generate -> check, as LangChain runnables.

``AnswerChain.runnable`` is the composed chain (``invoke`` gives an Answer); ``stream`` runs the
same steps but yields the model's tokens as they come, then the checked Answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from ingest.store import Filters
from ingest.text import detect_language, weighted_len
from prompts import load_prompt

from .citations import (REFUSAL, CheckResult, check_answer, expects_quantity, is_refusal,
                        neutralise_injections)
from .config import Settings
from .errors import BadQuestionError, EndpointError
from .excerpts import cut_weighted, excerpt
from .models import Embedder
from .retrieval import Retriever
from .types import Answer, RetrievedChunk, StreamEvent

LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}
MAX_QUESTION_CHARS = 4000
TITLE_CHARS = 80  # weighted characters of a title in the prompt when passages are excerpted
History = Sequence[tuple[str, str]] | Sequence[dict[str, str]] | None


def normalise_history(history: History) -> list[tuple[str, str]]:
    """Accept [(user, assistant), ...] or [{"role": ..., "content": ...}, ...]."""
    if not history:
        return []
    pairs: list[tuple[str, str]] = []
    pending_user: str | None = None
    for item in history:
        if isinstance(item, dict):
            role, content = item.get("role"), str(item.get("content") or "")
            if role == "user":
                pending_user = content
            elif role == "assistant" and pending_user is not None:
                pairs.append((pending_user, content))
                pending_user = None
        else:
            user, bot = item
            pairs.append((str(user), str(bot)))
    return pairs


def format_passages(passages: Sequence[RetrievedChunk], question: str = "",
                    budget: int = 0) -> str:
    """Passages as clearly delimited data; instruction-like sentences are neutralised. With a
    ``budget``, each passage is cut to its window most relevant to ``question``."""
    blocks = []
    for i, p in enumerate(passages, 1):
        title = p.title.replace('"', "'")
        if budget and weighted_len(title) > TITLE_CHARS:  # titles repeat in every passage
            title = cut_weighted(title, TITLE_CHARS).rstrip() + "…"
        text = excerpt(neutralise_injections(p.text), question, budget)
        blocks.append(f'<passage n="{i}" title="{title}">\n{text}\n</passage>')
    return "\n".join(blocks)


class AnswerChain:
    def __init__(self, settings: Settings, embedder: Embedder, retriever: Retriever,
                 llm_getter: Any) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self._llm_getter = llm_getter
        self.prompt = load_prompt(settings.answer.prompt)
        self.condense_prompt = load_prompt(settings.answer.condense_prompt)
        self.translate_prompt = load_prompt("translate_v1")
        self.runnable: Runnable = (
            RunnablePassthrough.assign(standalone=RunnableLambda(self._condense_step))
            | RunnablePassthrough.assign(passages=RunnableLambda(self._retrieve_step))
            | RunnablePassthrough.assign(draft=RunnableLambda(self._generate_step))
            | RunnableLambda(self._finalize_step)
        )

    @property
    def llm(self) -> Any:
        return self._llm_getter()

    # -- steps --------------------------------------------------------------------------------

    def _start(self, question: str, history: History, filters: Filters | None,
               k: int | None = None) -> dict:
        question = (question or "").strip()
        if not question:
            raise BadQuestionError("the question is empty: type a question about the indexed "
                                   "documents")
        if len(question) > MAX_QUESTION_CHARS:
            raise BadQuestionError(f"the question is {len(question)} characters long; ask in "
                                   f"at most {MAX_QUESTION_CHARS}")
        return {"question": question, "history": normalise_history(history),
                "filters": filters, "k": k, "language": detect_language(question),
                "timings": {}, "t0": time.perf_counter()}

    def _condense_step(self, state: dict) -> str:
        if not state["history"]:
            return state["question"]
        t0 = time.perf_counter()
        turns = "\n".join(f"User: {u}\nAssistant: {a}" for u, a in state["history"][-4:])
        system, user = self.condense_prompt.render(history=turns, question=state["question"])
        text = self._invoke([SystemMessage(system), HumanMessage(user)])
        state["timings"]["condense_s"] = time.perf_counter() - t0
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        return line[:MAX_QUESTION_CHARS] or state["question"]

    def _retrieve_step(self, state: dict) -> list[RetrievedChunk]:
        t0 = time.perf_counter()
        extra: list[str] = []
        if self.settings.retrieval.translate_query:
            extra = [self._translate(state["standalone"])]
        passages = self.retriever.retrieve(state["standalone"], state["filters"],
                                           extra_queries=extra, k=state.get("k"),
                                           timings=state["timings"])
        state["timings"]["retrieve_s"] = time.perf_counter() - t0
        return passages

    def _translate(self, question: str) -> str:
        target = "en" if detect_language(question) == "zh" else "zh"
        system, user = self.translate_prompt.render(question=question,
                                                    target_language=LANGUAGE_NAMES[target])
        text = self._invoke([SystemMessage(system), HumanMessage(user)])
        return text.strip().splitlines()[0] if text.strip() else question

    def out_of_scope(self, passages: Sequence[RetrievedChunk]) -> bool:
        best = max((p.dense_score for p in passages if p.dense_score is not None), default=None)
        return not passages or (best is not None and
                                best < self.settings.retrieval.min_similarity)

    def messages(self, state: dict) -> list:
        values = {
            "question": state["standalone"],
            "passages": format_passages(state["passages"], state["standalone"],
                                        self.settings.answer.passage_chars),
            "language_name": LANGUAGE_NAMES[state["language"]],
            "refusal": REFUSAL[state["language"]],
        }
        # each prompt version declares what it uses (answer_v2 names both refusals itself)
        system, user = self.prompt.render(**{k: v for k, v in values.items()
                                             if k in self.prompt.variables})
        return [SystemMessage(system), HumanMessage(user)]

    def _generate_step(self, state: dict) -> str:
        if self.out_of_scope(state["passages"]):
            return REFUSAL[state["language"]]
        t0 = time.perf_counter()
        text = self._invoke(self.messages(state))
        state["timings"]["generate_s"] = time.perf_counter() - t0
        return text

    def _invoke(self, messages: list) -> str:
        try:
            return (self.llm | StrOutputParser()).invoke(messages)
        except Exception as exc:  # noqa: BLE001 - provider errors are many; re-raised typed
            err = _endpoint_error(exc, self.settings)
            if err is exc:
                raise
            raise err from exc

    def _finalize_step(self, state: dict) -> Answer:
        t0 = time.perf_counter()
        passages: list[RetrievedChunk] = state["passages"]
        language = state["language"]
        draft: str = state["draft"]
        cfg = self.settings.answer
        result = check_answer(draft, passages, language, min_overlap=cfg.min_overlap,
                              min_semantic=cfg.min_semantic,
                              min_semantic_numbers=cfg.min_semantic_numbers,
                              similarity=self._cross_lingual_similarity(language),
                              unsupported=cfg.unsupported)
        timings = state["timings"]
        timings["check_s"] = time.perf_counter() - t0
        timings["total_s"] = time.perf_counter() - state["t0"]
        abstained = result.supported == 0
        reason = ""
        gives_number = any(c.supported and c.numbers for c in result.checks)
        if not abstained and expects_quantity(state["standalone"]) and not gives_number:
            # A quantity question answered without a supported number is not answered: a
            # quoted but irrelevant sentence must not pass for an answer.
            abstained = True
            reason = "no_quantity"
            result = CheckResult(text=REFUSAL[language], citations=[],
                                      checks=result.checks, supported=0, refused=False)
        elif abstained:
            if self.out_of_scope(passages):
                reason = "out_of_scope"
            elif result.refused or is_refusal(draft):
                reason = "model_declined"
            else:
                reason = "unsupported"
        return Answer(
            question=state["question"], standalone_question=state["standalone"],
            text=result.text, language=language, abstained=abstained,
            citations=result.citations, retrieved=passages, checks=result.checks, draft=draft,
            timings={k: round(v, 4) for k, v in timings.items()},
            settings_hash=self.settings.fingerprint(), prompt_hash=self.prompt.sha,
            abstain_reason=reason,
        )

    def _cross_lingual_similarity(self, language: str):
        """Semantic support only across languages, where word overlap cannot work."""
        def similarity(sentences: Sequence[str], chunks: Sequence[RetrievedChunk]):
            scores = np.full((len(sentences), len(chunks)), -1.0)
            other = [j for j, c in enumerate(chunks) if c.language != language]
            if not other or not sentences:
                return scores.tolist()
            vectors = self.retriever.store.chunk_vectors([chunks[j].chunk_id for j in other])
            queries = self.embedder.embed(list(sentences), kind="query")
            for j in other:
                vec = vectors.get(chunks[j].chunk_id)
                if vec is not None:
                    scores[:, j] = queries @ vec
            return scores.tolist()
        return similarity

    # -- public -------------------------------------------------------------------------------

    def invoke(self, question: str, history: History = None,
               filters: Filters | None = None, k: int | None = None) -> Answer:
        return self.runnable.invoke(self._start(question, history, filters, k))

    def stream(self, question: str, history: History = None,
               filters: Filters | None = None, k: int | None = None) -> Iterator[StreamEvent]:
        state = self._start(question, history, filters, k)
        state["standalone"] = self._condense_step(state)
        yield StreamEvent(kind="status", text="retrieving")
        state["passages"] = self._retrieve_step(state)
        yield StreamEvent(kind="status", text="generating")
        if self.out_of_scope(state["passages"]):
            state["draft"] = REFUSAL[state["language"]]
        else:
            t0 = time.perf_counter()
            pieces: list[str] = []
            try:
                for token in (self.llm | StrOutputParser()).stream(self.messages(state)):
                    if not pieces:
                        now = time.perf_counter()
                        state["timings"]["first_token_s"] = now - state["t0"]
                        state["timings"]["prompt_s"] = now - t0  # prompt processing
                    pieces.append(token)
                    yield StreamEvent(kind="token", text=token)
            except Exception as exc:  # noqa: BLE001
                err = _endpoint_error(exc, self.settings)
                if err is exc:
                    raise
                raise err from exc
            state["timings"]["generate_s"] = time.perf_counter() - t0
            state["draft"] = "".join(pieces)
        yield StreamEvent(kind="status", text="checking")
        yield StreamEvent(kind="answer", answer=self._finalize_step(state))


def _endpoint_error(exc: Exception, settings: Settings) -> Exception:
    """A provider's connection/API failure as one clear EndpointError; anything else (a bug)
    is returned unchanged so it is not disguised."""
    modules = {c.__module__.split(".")[0] for c in type(exc).__mro__}
    if not (isinstance(exc, (ConnectionError, TimeoutError)) or
            modules & {"openai", "httpx", "httpcore", "llama_cpp"}):
        return exc
    name = type(exc).__name__
    if settings.llm.model.startswith("openai:"):
        where = settings.llm.base_url or "the OpenAI API"
        return EndpointError(f"the LLM endpoint {where} failed ({name}: {str(exc)[:120]}); "
                             "check CLINCITE_LLM__BASE_URL, CLINCITE_LLM__API_KEY and that the "
                             "server is running")
    return EndpointError(f"the LLM failed ({name}: {str(exc)[:160]})")
