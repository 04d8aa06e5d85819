"""``retrieval.translate_query``: the question is translated by the LLM (prompts/translate_v1)
and searched in both languages (AnswerChain._translate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel

ZH_QUESTION = "SBRT骨肉瘤试验计划入组多少名受试者?"
EN_TRANSLATION = "How many participants will the SBRT osteosarcoma trial enroll?"
TRIAL_RECORD = "002_bd6c93367f61d5fe.txt"  # English: "43 participants in 1 patient group"


def make_bot(settings: Settings, corpus: Path, translate: bool
             ) -> tuple[Assistant, ScriptedChatModel, list[list[str]]]:
    s = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
        update={"translate_query": translate})})
    llm = ScriptedChatModel()
    bot = Assistant(s, embedder=HashingEmbedder(), llm=llm)
    assert not bot.ingest([corpus]).failed
    searched: list[list[str]] = []
    retrieve = bot.retriever.retrieve

    def spy(question, filters=None, extra_queries=(), **kw):
        searched.append([question, *extra_queries])
        return retrieve(question, filters, extra_queries=extra_queries, **kw)

    bot.retriever.retrieve = spy  # type: ignore[method-assign]
    return bot, llm, searched


def test_chinese_question_finds_english_record_through_its_translation(
        settings: Settings, corpus: Path) -> None:
    bot, llm, searched = make_bot(settings, corpus, translate=True)
    llm.enqueue(EN_TRANSLATION + "\n(translated from Chinese)")  # only the first line counts
    answer = bot.ask(ZH_QUESTION)
    # the model was asked to translate into English, with the question verbatim
    system, user = llm.history[0]
    assert "You translate medical questions" in system.content
    assert user.content == f"Translate into English:\n{ZH_QUESTION}"
    assert searched == [[ZH_QUESTION, EN_TRANSLATION]]
    # the translation is what reaches the English trial record; the answer quotes it
    assert answer.retrieved[0].doc_id == TRIAL_RECORD
    assert any("43 participants" in p.text for p in answer.retrieved)
    assert not answer.abstained
    assert "43 participants in 1 patient group" in answer.text
    assert answer.citations[0].doc_id == TRIAL_RECORD


def test_without_translation_the_english_record_is_missed(settings: Settings, corpus: Path
                                                          ) -> None:
    # the control for the test above: the hashing embedder has no cross-lingual meaning, and
    # with "SBRT" written as 立体定向放疗 no acronym anchors a search in the other language
    bot, llm, searched = make_bot(settings, corpus, translate=False)
    no_anchor = ZH_QUESTION.replace("SBRT", "立体定向放疗")
    answer = bot.ask(no_anchor)
    # the question's own search, untranslated; a second search may follow — the lead block's
    # search of its own for a study whose measure nothing retrieved binds (round 14): the
    # question plus the lexicon's English names, never an LLM translation
    assert searched[0] == [no_anchor] and all(len(s) == 1 for s in searched)
    assert all(s[0].startswith(no_anchor) for s in searched)
    # (not among the passages the model and the first quote ring read; the search also
    # returns a second ring, answer.quote_passages_more, where it may rank lower)
    first_ring = answer.retrieved[:bot.settings.answer.quote_passages]
    assert all(p.doc_id != TRIAL_RECORD for p in first_ring)
    assert all("You translate" not in m[0].content for m in llm.history)


def test_an_acronym_in_a_chinese_question_finds_the_english_record(settings: Settings,
                                                                   corpus: Path) -> None:
    """"SBRT骨肉瘤…": the acronym is an anchor searched in every language, so the English
    record is found even without translation."""
    bot, llm, searched = make_bot(settings, corpus, translate=False)
    answer = bot.ask(ZH_QUESTION)
    assert any(p.doc_id == TRIAL_RECORD for p in answer.retrieved)


@pytest.mark.parametrize("question, reply, target, searched_as", [
    ("What is the ORR in ALTER-S004?", "ALTER-S004研究的ORR是多少?", "Chinese (简体中文)",
     "ALTER-S004研究的ORR是多少?"),
    # an empty reply falls back to the question itself
    ("What is the ORR in ALTER-S004?", "   ", "Chinese (简体中文)",
     "What is the ORR in ALTER-S004?"),
    (ZH_QUESTION, "\n  " + EN_TRANSLATION + "\nsecond line", "English", EN_TRANSLATION),
])
def test_translation_target_and_reply_handling(settings: Settings, corpus: Path, question: str,
                                               reply: str, target: str, searched_as: str
                                               ) -> None:
    bot, llm, searched = make_bot(settings, corpus, translate=True)
    llm.enqueue(reply)
    bot.ask(question)
    assert llm.history[0][1].content == f"Translate into {target}:\n{question}"
    assert searched == [[question, searched_as]]
