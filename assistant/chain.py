"""The answering chain: condense -> retrieve -> generate -> check, as LangChain runnables.

``AnswerChain.runnable`` is the composed chain (``invoke`` gives an Answer); ``stream`` runs the
same steps but yields the model's tokens as they come, then the checked Answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from ingest.sentence_vectors import open_sentence_vectors
from ingest.store import Filters
from ingest.text import detect_language, split_sentences, weighted_len
from prompts import load_prompt

from .citations import (
    REFUSAL,
    AnswerChecker,
    PassageView,
    SourceSentence,
    is_refusal,
    join_sentences,
    neutralise_injections,
    sentence_language_ok,
    split_answer,
)
from .config import Settings
from .decide import (
    DECISION_TEXT,
    NOT_FOUND_REST,
    Coverage,
    Parts,
    Quote,
    answer_values,
    answers_question,
    asks_one_value,
    best_quote_in_rings,
    decision_for,
    decline_reason,
    half_answer,
    is_yes_no,
    missing_measures,
    names_new_agent,
    not_a_share,
    not_found_sentence,
    off_question,
    other_side_quote,
    question_parts,
    quote_coverage,
    quote_first_ok,
    quote_sentence,
    scored_quote,
    short_of_values,
    side_query,
    states_comparison,
    with_population,
)
from .errors import BadQuestionError, EndpointError
from .excerpts import Semantic, cut_weighted, excerpt, select_sentences
from .lexicon import populations_in, spell_names
from .models import Embedder
from .retrieval import Retriever
from .types import Answer, Citation, RetrievedChunk, StreamEvent

LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}
MAX_QUESTION_CHARS = 4000
TITLE_CHARS = 80  # weighted characters of a title in the prompt when passages are excerpted
History = Sequence[tuple[str, str]] | Sequence[dict[str, str]] | None


def out_of_scope(passages: Sequence[RetrievedChunk], language: str | None, floor: float,
                 floor_across: float) -> bool:
    """No passage, or the closest one (by cosine) below the floor: the documents are not about
    the question. A passage in the other language than the question's has the lower floor of
    the two, cosines across languages running lower."""
    scored = [p for p in passages if p.dense_score is not None]
    if not passages:
        return True
    if not scored:
        return False
    best = max(scored, key=lambda p: p.dense_score or 0.0)
    across = language is not None and best.language != language
    assert best.dense_score is not None
    return best.dense_score < (min(floor, floor_across) if across else floor)


def check_k(k: int | None) -> None:
    """``k`` passages: None for the setting, else 1..50 (0 and negatives are mistakes)."""
    if k is not None and not (isinstance(k, int) and 1 <= k <= 50):
        raise BadQuestionError(f"k={k} passages is not possible: give a whole number from 1 to "
                               "50 (or leave it out for CLINCITE_RETRIEVAL__K)")


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
                    budget: int = 0, semantic: Semantic | None = None,
                    total: int = 0) -> str:
    """Passages as clearly delimited data; instruction-like sentences are neutralised. With a
    ``budget``, each passage is cut to its window most relevant to ``question``; with a
    ``total``, the best sentences across all passages are kept within it instead (a passage
    with none kept is left out; the numbering stays that of the retrieved passages)."""
    texts = [neutralise_injections(p.text) for p in passages]
    if total:
        texts = select_sentences(texts, question, total, semantic, max_sentence=budget)
    else:
        texts = [excerpt(t, question, budget, semantic) for t in texts]
    return "\n".join(passage_block(i, p.title, text, cut_title=bool(budget or total))
                     for i, (p, text) in enumerate(zip(passages, texts, strict=True), 1) if text)


def passage_block(n: int, title: str, text: str, cut_title: bool = True) -> str:
    """One passage as the model reads it: delimited data, numbered as retrieved; with
    ``cut_title`` a long title is cut to ``TITLE_CHARS`` (titles repeat across excerpts)."""
    title = title.replace('"', "'")
    if cut_title and weighted_len(title) > TITLE_CHARS:
        title = cut_weighted(title, TITLE_CHARS).rstrip() + "…"
    return f'<passage n="{n}" title="{title}">\n{text}\n</passage>'


@dataclass
class Turn:
    """The state of one question between the pipeline's steps."""

    question: str
    history: list[tuple[str, str]]
    filters: Filters | None
    k: int | None
    language: str
    t0: float
    standalone: str = ""
    passages: list[RetrievedChunk] = field(default_factory=list)
    documents: dict[str, str] = field(default_factory=dict)
    model_input: str = ""
    draft: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # cos(question, sentence) of every evidence sentence, keyed (passage n, sentence start)
    similarities: dict[tuple[int, int], float] = field(default_factory=dict)
    model_k: int = 0  # the passages the model reads: the first model_k of ``passages``
    out_of_scope: bool = False  # no passage close enough: declined without the model


class AnswerChain:
    """condense -> retrieve -> generate -> check. ``stream`` is the pipeline: it yields status
    events, the checked text sentence by sentence as each passes (``kind="text"``; the raw
    draft is never yielded), then the Answer; ``invoke`` returns that Answer. ``runnable`` is
    the same pipeline as a LangChain Runnable (input: {"question", "history", "filters"})."""

    def __init__(self, settings: Settings, embedder: Embedder, retriever: Retriever,
                 llm_getter: Any) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retriever = retriever
        self._llm_getter = llm_getter
        self.prompt = load_prompt(settings.answer.prompt)
        self.condense_prompt = load_prompt(settings.answer.condense_prompt)
        self.translate_prompt = load_prompt("translate_v1")
        self.translate_answer_prompt = load_prompt("translate_answer_v1")
        self.runnable: Runnable = RunnableLambda(
            lambda x: self.invoke(x["question"], x.get("history"), x.get("filters"), x.get("k")))
        # cos(question, sentence) needs sentence vectors: embedded at ingest, kept on disk
        self.sentence_vectors = open_sentence_vectors(embedder, settings.data_dir)

    @property
    def llm(self) -> Any:
        return self._llm_getter()

    # -- steps --------------------------------------------------------------------------------

    def _start(self, question: str, history: History, filters: Filters | None,
               k: int | None = None) -> Turn:
        question = (question or "").strip()
        if not question:
            raise BadQuestionError("the question is empty: type a question about the indexed "
                                   "documents")
        if len(question) > MAX_QUESTION_CHARS:
            raise BadQuestionError(f"the question is {len(question)} characters long; ask in "
                                   f"at most {MAX_QUESTION_CHARS}")
        check_k(k)
        return Turn(question=question, history=normalise_history(history), filters=filters,
                    k=k, language=detect_language(question), t0=time.perf_counter())

    def _condense(self, turn: Turn) -> str:
        """The question as every later stage reads it: standalone (a follow-up rewritten with
        the conversation) and with misspelt drug names written as the lexicon writes them
        ("帕博利朱单抗" is pembrolizumab, whose figures the question asks, not another drug's)."""
        return spell_names(self._standalone(turn))

    def _standalone(self, turn: Turn) -> str:
        if not turn.history:
            return turn.question
        t0 = time.perf_counter()
        turns = "\n".join(f"User: {u}\nAssistant: {a}" for u, a in turn.history[-4:])
        system, user = self.condense_prompt.render(history=turns, question=turn.question)
        text = self._invoke([SystemMessage(system), HumanMessage(user)])
        turn.timings["condense_s"] = time.perf_counter() - t0
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        return line[:MAX_QUESTION_CHARS] or turn.question

    def _retrieve(self, turn: Turn) -> list[RetrievedChunk]:
        t0 = time.perf_counter()
        extra: list[str] = []
        if self.settings.retrieval.translate_query:
            extra = [self._translate(turn.standalone)]
        k = self.settings.retrieval.k if turn.k is None else turn.k
        turn.model_k = k
        passages = self.retriever.retrieve(turn.standalone, turn.filters, extra_queries=extra,
                                           k=max(k, self.settings.answer.quote_passages,
                                                 self.settings.answer.quote_passages_more),
                                           timings=turn.timings)
        turn.timings["retrieve_s"] = time.perf_counter() - t0
        return passages

    def _translate(self, question: str) -> str:
        target = "en" if detect_language(question) == "zh" else "zh"
        system, user = self.translate_prompt.render(question=question,
                                                    target_language=LANGUAGE_NAMES[target])
        text = self._invoke([SystemMessage(system), HumanMessage(user)])
        return text.strip().splitlines()[0] if text.strip() else question

    def out_of_scope(self, passages: Sequence[RetrievedChunk], language: str | None = None
                     ) -> bool:
        return out_of_scope(passages, language, self.settings.retrieval.min_similarity,
                            self.settings.retrieval.min_similarity_across)

    def _semantic(self, question: str, always: bool = False):
        """cos(question, sentence) for the excerpt choice (``semantic_excerpts``) and the
        quote fallback (``always``), sentence vectors cached per process."""
        if not (always or self.settings.answer.semantic_excerpts):
            return None
        query = self._query_vector(question)

        def scores(sentences: Sequence[str]) -> list[float]:
            if not sentences:
                return []
            return [float(x) for x in self.sentence_vectors.vectors(sentences) @ query]
        return scores

    def _query_vector(self, question: str) -> np.ndarray:
        """The question's vector (the retriever embedded it already: the last one is kept)."""
        last = getattr(self.retriever, "last_query", None)
        if last is not None and last[0] == question:
            return last[1]
        return self.embedder.embed([question], kind="query")[0]

    def _sentence_similarities(self, turn: Turn, checker: AnswerChecker
                               ) -> dict[tuple[int, int], float]:
        """cos(question, sentence) for every evidence sentence (cached vectors)."""
        score = self._semantic(turn.standalone, always=True)
        if score is None:
            return {}
        keys = [(v.n, s.start) for v in checker.views for s in v.sentences]
        texts = [s.text for v in checker.views for s in v.sentences]
        return dict(zip(keys, score(texts), strict=True)) if texts else {}

    def passages_text(self, question: str, passages: Sequence[RetrievedChunk]) -> str:
        """What the model reads: each passage cut to its evidence window for the question."""
        cfg = self.settings.answer
        budget, total = cfg.passage_chars, cfg.evidence_chars
        return format_passages(passages, question, budget,
                               self._semantic(question) if budget or total else None, total)

    def messages(self, turn: Turn) -> list:
        values = {
            "question": turn.standalone,
            "passages": turn.model_input,
            "language_name": LANGUAGE_NAMES[turn.language],
            "refusal": REFUSAL[turn.language],
        }
        # each prompt version declares what it uses (answer_v2 names both refusals itself)
        system, user = self.prompt.render(**{k: v for k, v in values.items()
                                             if k in self.prompt.variables})
        return [SystemMessage(system), HumanMessage(user)]

    def _invoke(self, messages: list) -> str:
        try:
            return (self.llm | StrOutputParser()).invoke(messages)
        except Exception as exc:  # noqa: BLE001 - provider errors are many; re-raised typed
            err = _endpoint_error(exc, self.settings)
            if err is exc:
                raise
            raise err from exc

    def _tokens(self, turn: Turn) -> Iterator[str]:
        try:
            yield from (self.llm | StrOutputParser()).stream(self.messages(turn))
        except Exception as exc:  # noqa: BLE001
            err = _endpoint_error(exc, self.settings)
            if err is exc:
                raise
            raise err from exc

    def _checker(self, turn: Turn) -> AnswerChecker:
        cfg = self.settings.answer
        return AnswerChecker(turn.passages, turn.language, question=turn.standalone,
                             documents=turn.documents, min_overlap=cfg.min_overlap,
                             min_semantic=cfg.min_semantic,
                             similarity=self._cross_lingual_similarity(turn.language),
                             unsupported=cfg.unsupported)

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

    # -- the pipeline ---------------------------------------------------------------------

    def invoke(self, question: str, history: History = None,
               filters: Filters | None = None, k: int | None = None) -> Answer:
        answer = None
        for event in self.stream(question, history, filters, k):
            if event.kind == "answer":
                answer = event.answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: History = None,
               filters: Filters | None = None, k: int | None = None) -> Iterator[StreamEvent]:
        turn = self._start(question, history, filters, k)
        turn.standalone = self._condense(turn)
        yield StreamEvent(kind="status", text="retrieving")
        turn.passages = self._retrieve(turn)
        store = self.retriever.store
        turn.documents = {d: t for d in {p.doc_id for p in turn.passages}
                          if (t := store.document_text(d)) is not None}
        checker = self._checker(turn)
        turn.out_of_scope = self.out_of_scope(turn.passages, turn.language)
        if not turn.out_of_scope:
            t0 = time.perf_counter()
            turn.similarities = self._sentence_similarities(turn, checker)
            checker.sentence_similarity = turn.similarities
            turn.timings["similarity_s"] = time.perf_counter() - t0
        gate = Gate(question_parts(turn.standalone), turn.language)
        if turn.out_of_scope:
            turn.draft = REFUSAL[turn.language]
        else:
            yield from self._quote_first(turn, checker, gate)
            yield StreamEvent(kind="status", text="generating")
            t0 = time.perf_counter()
            turn.model_input = self.passages_text(turn.standalone,
                                                  turn.passages[:turn.model_k])
            turn.model_input += self._lead_block(turn, checker, gate.parts)
            turn.timings["excerpt_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            pieces: list[str] = []
            pending = ""
            for token in self._tokens(turn):
                if not pieces:
                    now = time.perf_counter()
                    turn.timings["prompt_s"] = now - t0  # prompt processing
                pieces.append(token)
                pending += token
                # every sentence but the last is complete: check it, show it once it passes
                complete, pending = complete_sentences(pending)
                for sentence in complete:
                    yield from self._release(gate, checker, sentence, turn)
            if pending.strip() and not is_refusal("".join(pieces)):
                # the last sentence by the stream's split may be several by the answer's
                # ("Yes, X. [1] indicates that Y."): each is checked on its own
                for sentence in split_answer(pending):
                    yield from self._release(gate, checker, sentence, turn)
            turn.timings["generate_s"] = time.perf_counter() - t0
            turn.draft = "".join(pieces)
        yield StreamEvent(kind="status", text="checking")
        answer = self._finish(turn, checker, gate)
        rest = answer.text[len(gate.shown_text):] if answer.text.startswith(
            gate.shown_text) else ""
        if rest and not answer.abstained:
            self._first_text(turn)
            yield StreamEvent(kind="text", text=rest)
        yield StreamEvent(kind="answer", answer=answer)

    def _first_text(self, turn: Turn) -> None:
        turn.timings.setdefault("first_token_s", time.perf_counter() - turn.t0)

    def _quote_first(self, turn: Turn, checker: AnswerChecker,
                     gate: Gate) -> Iterator[StreamEvent]:
        """A question for one number (``asks_one_value``) whose passages the model reads hold
        a sentence that answers it (``quote_first_ok``: bound by the measure and every subject
        where a measure is asked): that sentence, verbatim and cited, is the first text shown
        — before the model has read its prompt. It is the quote a failed draft falls back to,
        chosen by the same rules; the model's checked sentences follow it only where each
        answers by itself (``_check_into_gate``; ``answer.quote_first``)."""
        parts = gate.parts
        cfg = self.settings.answer
        if not cfg.quote_first or not asks_one_value(parts) or is_yes_no(turn.standalone):
            return
        found = scored_quote(turn.standalone, [v for v in checker.views if v.n <= turn.model_k],
                             parts, next(iter(parts.measures), None),
                             semantic=turn.similarities,
                             min_similarity=cfg.min_quote_similarity,
                             min_similarity_across=cfg.min_quote_similarity_across)
        # (the gate is empty: what the quote covers is all it would count)
        if found is None or not quote_first_ok(parts, found) or \
                not answers_question(parts, quote_coverage(found.sentence)):
            return
        self._show_quote(turn, checker, gate, (found.view, found.sentence), gate.quoted_at)
        text = gate.release()
        self._first_text(turn)
        turn.timings["quote_first_s"] = time.perf_counter() - turn.t0
        yield StreamEvent(kind="text", text=text)

    def _release(self, gate: Gate, checker: AnswerChecker, sentence: str,
                 turn: Turn) -> Iterator[StreamEvent]:
        """Check one sentence; yield what may be shown now (held back until the answer
        answers the question, so nothing shown is later withdrawn)."""
        if not sentence_language_ok(sentence, turn.language):
            gate.wrong_language += 1
            gate.foreign.append(sentence)  # translated and checked at the end if needed
            return
        if self._check_into_gate(gate, checker, sentence, turn) is None:
            return
        text = gate.release()
        if text:
            self._first_text(turn)
            turn.timings.setdefault("model_text_s", time.perf_counter() - turn.t0)
            yield StreamEvent(kind="text", text=text)

    def _check_into_gate(self, gate: Gate, checker: AnswerChecker, sentence: str,
                         turn: Turn) -> str | None:
        """One sentence of the model's (or its translation's): held back unchecked where it
        states a number of something not asked (``off_question``) or a value no share has for
        a share asked (``not_a_share``), else checked and, when it passes, added to the gate.
        Returns the text as shown, or None."""
        if off_question(turn.standalone, gate.parts, sentence) or \
                not_a_share(turn.standalone, gate.parts, sentence):
            checker.drop(sentence)
            return None
        before = checker.supported
        if gate.quoted_at:  # (while the model writes, only a quote shown first is in it)
            return self._restatement(gate, checker, sentence, before)
        shown = checker.check(sentence)
        if shown is not None:
            gate.add(shown, checker, counted=checker.supported > before)
        return shown

    @staticmethod
    def _restatement(gate: Gate, checker: AnswerChecker, sentence: str,
                     before: int) -> str | None:
        """After a quote shown first, a sentence of the model's is shown only where it passes
        and answers the question by itself (the number asked, of its measure and subjects, in
        the question's language); its other sentences add nothing the quote needs."""
        shown = checker.check(sentence)
        own = Coverage(measures=set(checker.last_measures), subjects=set(checker.last_subjects),
                       numbers=int(bool(checker.checks and checker.checks[-1].numbers)))
        if shown is None or checker.supported == before or \
                not answers_question(gate.parts, own):
            if shown is not None:
                checker.checks[-1].action = "dropped"  # passed, yet not shown
            return None
        gate.add(shown, checker, counted=True, measures=own.measures, subjects=own.subjects,
                 numbers=True)
        return shown

    def _translate_draft(self, turn: Turn, checker: AnswerChecker, gate: Gate) -> None:
        """The question's language, always: a draft written in the other language is
        translated (markers kept) and each translated sentence checked like any other."""
        t0 = time.perf_counter()
        system, user = self.translate_answer_prompt.render(
            answer=" ".join(s.strip() for s in gate.foreign),
            target_language=LANGUAGE_NAMES[turn.language])
        text = self._invoke([SystemMessage(system), HumanMessage(user)]).strip()
        turn.timings["translate_s"] = time.perf_counter() - t0
        for sentence in split_answer(text):
            if not sentence_language_ok(sentence, turn.language):
                continue
            if self._check_into_gate(gate, checker, sentence, turn) is not None:
                gate.translated += 1

    def _lead_block(self, turn: Turn, checker: AnswerChecker, parts: Parts) -> str:
        """More passages for the model, one sentence each: for each part of the question (each
        of two studies or populations asked side by side, else the question whole) whose
        first k passages hold no sentence that a measure and every subject of the part bind,
        the passage ranked below them that does ("43 participants in 1 patient group", a
        trial record's tail chunk ranked 4th) — the evidence by meaning and lexicon, not by
        rank. A study asked side by side that no retrieved passage states gets its own search
        first (the question's search ranks by both studies and may leave one out), and so does
        a question of one study whose measure no retrieved passage binds (its search adds the
        lexicon's names in the other language: a record's tail chunk, dev d6-10). Empty where
        the first k hold one for every part, none binds, or ``answer.lead_sentence`` is off."""
        cfg = self.settings.answer
        if not cfg.lead_sentence or not (parts.measures or parts.entities):
            return ""
        k = turn.model_k

        def best(views: list[PassageView], want: Parts) -> Quote | None:
            return scored_quote(turn.standalone, views, want, semantic=turn.similarities,
                                min_similarity=cfg.min_quote_similarity,
                                min_similarity_across=cfg.min_quote_similarity_across)

        wants = ([replace(parts, entities=side, values=1) for side in parts.sides] or
                 [replace(parts, population=frozenset({p}), values=1)
                  for p in parts.populations] or [parts])
        blocks: list[str] = []
        for want in wants:
            found = best([v for v in checker.views if v.n <= k], want)
            if found is not None and found.bound:
                continue
            lead = best([v for v in checker.views if v.n > k], want)
            # a search of its own: one study of two asked side by side, or the one study
            # asked with a measure that nothing retrieved binds
            own_search = want.entities != parts.entities or bool(want.measures and want.entities)
            if (lead is None or not lead.bound) and own_search:
                measure = next(iter(parts.measures), None)
                side = self._side_quote(turn, checker, want, measure, set())
                lead = best([v for v in checker.views if v.n > k], want) if side else None
            # no measure names what is asked and the first k give no quote at all: the
            # sentence below them that words and meaning choose ("incidence of bone
            # metastasis" for "骨转移发生率约为65%~75%", 8th) is read too, though it binds none
            unbound_ok = not want.measures and found is None
            if lead is None or not (lead.bound or unbound_ok) or \
                    lead.sentence.text in turn.model_input or any(
                    lead.sentence.text in b for b in blocks):
                continue
            text = neutralise_injections(lead.sentence.text.strip())
            blocks.append("\n" + passage_block(lead.view.n, lead.view.chunk.title, text))
        return "".join(blocks)

    def _best_quote(self, turn: Turn, checker: AnswerChecker, parts: Parts,
                    measure: str | None, quoted: set[tuple[int, int]], near_only: bool = False
                    ) -> tuple[PassageView, SourceSentence] | None:
        answer = self.settings.answer
        first = max(answer.quote_passages, turn.model_k)
        views = [v for v in checker.views if v.n <= first] if near_only else checker.views
        return best_quote_in_rings(turn.standalone, views, first, parts, measure,
                                   semantic=turn.similarities,
                                   min_similarity=answer.min_quote_similarity,
                                   min_similarity_across=answer.min_quote_similarity_across,
                                   skip=quoted)

    def _side_quote(self, turn: Turn, checker: AnswerChecker, side: Parts,
                    measure: str | None, quoted: set[tuple[int, int]]
                    ) -> tuple[PassageView, SourceSentence] | None:
        """One study of a two-study question that no retrieved passage states: a search of
        its own (its side of the question), the passages it adds read for a quote. The
        question's search ranks by both studies and may leave one out of its passages."""
        answer = self.settings.answer
        query = side_query(turn.standalone, side.entities)
        extra = [self._translate(query)] if self.settings.retrieval.translate_query else []
        have = {v.chunk.chunk_id for v in checker.views}
        found = self.retriever.retrieve(query, turn.filters, extra_queries=extra,
                                        k=max(answer.quote_passages, answer.quote_passages_more))
        more = [p for p in found if p.chunk_id not in have]
        if not more:
            return None
        store = self.retriever.store
        for doc_id in {p.doc_id for p in more} - set(turn.documents):
            if (text := store.document_text(doc_id)) is not None:
                turn.documents[doc_id] = text
        views = [PassageView.of(len(checker.views) + i + 1, chunk,
                                turn.documents.get(chunk.doc_id))
                 for i, chunk in enumerate(more)]
        checker.views.extend(views)
        turn.passages.extend(more)
        score = self._semantic(turn.standalone, always=True)
        sentences = [(v.n, s.start, s.text) for v in views for s in v.sentences]
        if score is not None and sentences:
            turn.similarities.update(zip([(n, start) for n, start, _ in sentences],
                                         score([t for _, _, t in sentences]), strict=True))
        return best_quote_in_rings(turn.standalone, views, len(checker.views), side, measure,
                                   semantic=turn.similarities,
                                   min_similarity=answer.min_quote_similarity,
                                   min_similarity_across=answer.min_quote_similarity_across,
                                   skip=quoted)

    def _show_quote(self, turn: Turn, checker: AnswerChecker, gate: Gate,
                    found: tuple[PassageView, SourceSentence],
                    quoted: set[tuple[int, int]]) -> None:
        """A quote-backed answer sentence: the source sentence verbatim, cited."""
        view, sentence = found
        quoted.add((view.n, sentence.start))
        marker = checker.cite_sentence(view, sentence)
        covers = quote_coverage(sentence)
        gate.add(quote_sentence(sentence.text, marker, turn.language, view.chunk.language),
                 checker, counted=True, measures=covers.measures, subjects=covers.subjects,
                 numbers=bool(covers.numbers))
        gate.quoted += 1

    def _finish(self, turn: Turn, checker: AnswerChecker, gate: Gate) -> Answer:
        """The final answer: what passed, completed part by part from quotes where the model
        left a part out or failed, else declined."""
        t0 = time.perf_counter()
        parts = gate.parts
        language = turn.language
        refused = is_refusal(turn.draft)
        reason = ""
        decision: str | None = None
        if not gate.answered and gate.foreign and not refused:
            self._translate_draft(turn, checker, gate)
        if not turn.out_of_scope:
            # parts the checked draft left out: a quoted source sentence, else "not found"
            wanted = missing_measures(parts, gate.coverage) if gate.answered else []
            if not gate.answered:
                # nothing shown yet: the model's sentences did not answer; a quote may
                wanted = list(parts.measures) or [None]  # type: ignore[list-item]
                gate.discard_held()
            quoted = gate.quoted_at  # (a quote shown first is in it)
            # two populations asked the same thing ("初治患者和复发难治患者的DCR分别…"): each is a
            # part, quoted in the question's order where no shown sentence is about it yet
            for population in parts.populations:
                if any(population in populations_in(s) for s in gate.sentences):
                    continue
                side = replace(parts, population=frozenset({population}), values=1)
                for measure in parts.measures or (None,):
                    found = self._best_quote(turn, checker, side, measure, quoted)
                    if found is not None:
                        view, sentence = found
                        self._show_quote(turn, checker, gate,
                                         (view, with_population(view, sentence, population)),
                                         quoted)
            # two studies asked the same thing ("A试验与B试验分别…"): no one sentence states
            # both, so each study is a part of its own, quoted where the draft left it out
            for subjects in parts.sides:
                if subjects <= gate.coverage.subjects:
                    continue  # a shown sentence is about this study already
                side = replace(parts, entities=subjects, values=1)
                for measure in parts.measures or (None,):
                    # the nearest passages, then the study's own search, then the rest: a
                    # lower-ranked sentence of another study's figure never comes before it
                    found = (self._best_quote(turn, checker, side, measure, quoted, True) or
                             self._side_quote(turn, checker, side, measure, quoted) or
                             self._best_quote(turn, checker, side, measure, quoted))
                    if found is not None:
                        self._show_quote(turn, checker, gate, found, quoted)
            if (parts.sides or parts.populations) and gate.answered:
                wanted = missing_measures(parts, gate.coverage)
            for measure in wanted:
                if measure is not None and measure in gate.coverage.measures:
                    continue  # an earlier quote stated it too
                found = self._best_quote(turn, checker, parts, measure, quoted)
                if found is not None:
                    self._show_quote(turn, checker, gate, found, quoted)
            # a question that wants more values than shown ("中危组和高危组分别…"): the next
            # sentence that states more of them, else the answer says it is incomplete
            values = answer_values(gate.sentences, turn.standalone, parts)
            if gate.answered and short_of_values(parts, values):
                found = self._best_quote(turn, checker, parts, None, quoted)
                if found is not None and answer_values([found[1].text], turn.standalone,
                                                       parts) - values:
                    self._show_quote(turn, checker, gate, found, quoted)
                    values = answer_values(gate.sentences, turn.standalone, parts)
            decision = decision_for(turn.standalone, turn.draft, checker.checks)
            if gate.answered and decision:
                gate.add(DECISION_TEXT[language][decision], checker, counted=False)
            if gate.answered:
                # a measure a question names but asks no number of ("which drug must
                # participants not have received") is no missing part
                for measure in missing_measures(parts, gate.coverage) if parts.quantity else []:
                    gate.add(not_found_sentence(measure, language), checker, counted=False)
                    gate.partial = True
                if not parts.quantity:
                    # two groups asked, one answered: the cited record's sentence on the other
                    found = other_side_quote(
                        turn.standalone, " ".join(gate.sentences), checker.views,
                        {c.doc_id for c in checker.citations}, turn.similarities,
                        self.settings.answer.min_quote_similarity_across)
                    if found is not None and (found[0].n, found[1].start) not in quoted:
                        self._show_quote(turn, checker, gate, found, quoted)
                if not gate.partial and half_answer(parts, values, turn.standalone,
                                                    gate.sentences):
                    gate.add(NOT_FOUND_REST[language], checker, counted=False)
                    gate.partial = True
                gate.release()
        timings = turn.timings
        timings["check_s"] = time.perf_counter() - t0
        timings["total_s"] = time.perf_counter() - turn.t0
        abstained = not gate.answered
        citations: list[Citation]
        if abstained:
            text, citations = REFUSAL[language], []
            reason = decline_reason(out_of_scope=turn.out_of_scope,
                                    model_declined=refused,
                                    wrong_language=bool(gate.wrong_language),
                                    supported=checker.supported, quantity=parts.quantity)
        else:
            text, citations = renumber(gate.shown_text, checker.citations)
        return Answer(
            question=turn.question, standalone_question=turn.standalone, text=text,
            language=language, abstained=abstained, citations=citations,
            retrieved=turn.passages, checks=checker.checks, draft=turn.draft,
            timings={k: round(v, 4) for k, v in timings.items()},
            settings_hash=self.settings.fingerprint(), prompt_hash=self.prompt.sha,
            abstain_reason=reason, model_input=turn.model_input, partial=gate.partial,
            missing=[m for m in parts.measures if m not in gate.coverage.measures]
            if gate.answered else [], quoted=gate.quoted,
            decision=None if abstained else decision,
        )


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, list[Citation]]:
    """Markers numbered 1, 2, ... in order of first appearance; only cited citations kept.
    (Shown text is numbered that way already; this closes the gaps left by sentences held back
    and never shown.)"""
    order: dict[int, int] = {}
    for m in re.finditer(r"\[(\d+)\]", text):
        order.setdefault(int(m.group(1)), len(order) + 1)
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{order[int(m.group(1))]}]", text)
    kept = sorted((c.model_copy(update={"n": order[c.n]}) for c in citations if c.n in order),
                  key=lambda c: c.n)
    return text, kept


def complete_sentences(text: str) -> tuple[list[str], str]:
    """(finished sentences, the unfinished rest) of a draft being written: a sentence is
    finished once the next one has begun; a marker right after its full stop stays with it."""
    spans = split_sentences(text)
    if len(spans) < 2:
        return [], text
    cut = spans[-1].start
    rest = text[cut:]
    marker = re.match(r"\s*(?:[\[【]\d{1,2}(?:\s*[,，、]\s*\d{1,2})*[\]】])+", rest)
    if marker and marker.end() == len(rest.rstrip()):
        return [], text  # only a marker so far: wait for what follows it
    return split_answer(text[:cut]), rest


class Gate:
    """Holds checked sentences back until they answer the question, then lets them through:
    the stream never shows text the final answer withdraws."""

    def __init__(self, parts: Parts, language: str) -> None:
        self.parts = parts
        self.language = language
        self.coverage = Coverage()
        self.sentences: list[str] = []
        self.released = 0
        self.shown_text = ""
        self.answered = False
        self.partial = False
        self.wrong_language = 0
        self.foreign: list[str] = []  # draft sentences in the wrong language
        self.quoted = 0
        self.translated = 0
        self.quoted_at: set[tuple[int, int]] = set()  # (passage n, start) of quotes shown

    def add(self, text: str, checker: AnswerChecker, counted: bool,
            measures: set[str] | None = None, subjects: set[str] | None = None,
            numbers: bool | None = None) -> None:
        self.sentences.append(text)
        if counted:
            last = checker.checks[-1] if checker.checks and measures is None else None
            self.coverage.measures |= measures if measures is not None else checker.measures
            self.coverage.subjects |= subjects if subjects is not None else checker.subjects
            has_number = numbers if numbers is not None else bool(last and last.numbers)
            self.coverage.numbers += int(has_number)
            self.coverage.new_agent |= names_new_agent(self.parts, text)
            if states_comparison(self.parts, text):
                # which way the comparison goes, of what is compared: its measures are answered
                self.coverage.compared = True
                self.coverage.measures |= self.parts.compared & set(self.parts.measures)
            # only a sentence that passed the check can answer: a bare "Yes." (nothing to
            # check) waits for one, else the question is declined
            self.answered = self.answered or answers_question(self.parts, self.coverage)

    def discard_held(self) -> None:
        """Forget sentences not shown yet (they did not answer the question)."""
        del self.sentences[self.released:]

    def release(self) -> str:
        if not self.answered or self.released == len(self.sentences):
            return ""
        new = join_sentences(self.sentences[self.released:], self.language)
        sep = "" if not self.shown_text or self.language == "zh" else " "
        self.released = len(self.sentences)
        self.shown_text += sep + new
        return sep + new


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
