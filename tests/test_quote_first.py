"""A quote shown first (``answer.quote_first``): a question for one number of one measure whose
passages hold a sentence that binds it gets that sentence, verbatim and cited, as its first
text — before the model has read its prompt — and the model's own sentence follows only where
it passes the check and answers by itself. The scripted LLM stands in for Qwen and the hashing
embedder for EmbeddingGemma, over the real store and sample corpus."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import Assistant, Settings
from assistant.decide import Quote, asks_one_value, question_parts, quote_first_ok
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel

ORR_Q = "ALTER-S004研究中安罗替尼联合化疗的ORR是多少?"
ENROL_Q = "How many participants will the SBRT osteosarcoma trial enroll?"


@pytest.mark.parametrize("question, one", [
    (ORR_Q, True),
    (ENROL_Q, True),
    # one number that no lexicon measure names
    ("骨转移瘤寡转移通常指骨转移病灶数目局限在多少个以内?", True),
    # two values of one measure, two measures, a comparison, no number: no one sentence
    ("ISG-STS 1001研究中,同期放化疗与单纯化疗患者的PR率分别是多少?", False),
    ("What were the ORR and the DCR in the ALTER-S004 study?", False),
    ("How did the incidence of ONJ compare between denosumab and zoledronic acid?", False),
    ("Which drug was combined with anlotinib in the ALTER-S004 study?", False),
])
def test_asks_one_value(question: str, one: bool) -> None:
    assert asks_one_value(question_parts(question)) is one


def _quote(bound: bool, claims: bool) -> Quote:
    sentence = SimpleNamespace(claims=[object()] if claims else [])
    return Quote(score=1.0, bound=bound, view=None, sentence=sentence)  # type: ignore[arg-type]


@pytest.mark.parametrize("question, bound, claims, ok", [
    (ORR_Q, True, True, True),
    (ORR_Q, False, True, False),  # ORR asked; words or meaning alone chose the sentence
    (ORR_Q, True, False, False),  # no number in it
    ("骨转移瘤寡转移通常指骨转移病灶数目局限在多少个以内?", False, True, True),  # no measure asked
    ("ISG-STS 1001研究中,同期放化疗与单纯化疗患者的PR率分别是多少?", True, True, False),
])
def test_quote_first_ok(question: str, bound: bool, claims: bool, ok: bool) -> None:
    assert quote_first_ok(question_parts(question), _quote(bound, claims)) is ok


def _bot(settings: Settings, corpus: Path, llm: ScriptedChatModel,
         quote_first: bool = True) -> Assistant:
    s = settings.model_copy(update={"answer": settings.answer.model_copy(
        update={"quote_first": quote_first})})
    bot = Assistant(s, embedder=HashingEmbedder(), llm=llm)
    assert not bot.ingest([corpus]).failed
    return bot


def _stream(bot: Assistant, llm: ScriptedChatModel, question: str):
    """(text events with how many prompts the model had been sent when each came, answer)."""
    texts, answer = [], None
    for event in bot.stream(question):
        if event.kind == "text":
            texts.append((event.text, len(llm.history)))
        elif event.kind == "answer":
            answer = event.answer
    assert answer is not None
    return texts, answer


def test_the_binding_sentence_is_shown_before_the_model_is_asked(
        settings: Settings, corpus: Path) -> None:
    llm = ScriptedChatModel().enqueue("ALTER-S004研究的ORR为28.57%[1]。疾病控制率为100%[1]。")
    bot = _bot(settings, corpus, llm)
    texts, answer = _stream(bot, llm, ORR_Q)
    (first, asked), *rest = texts
    assert asked == 0  # shown before the model was sent anything
    assert first.startswith("文献原文：“") and "其ORR为28.57%" in first and first.endswith("[1]")
    # the model's restatement follows; its sentence on what was not asked (DCR) does not
    assert [t for t, _ in rest] == ["ALTER-S004研究的ORR为28.57%[1]。"]
    assert answer.text == first + "ALTER-S004研究的ORR为28.57%[1]。"
    assert answer.quoted == 1 and len(answer.citations) == 1
    assert "ORR为28.57%" in answer.citations[0].quote
    assert answer.timings["quote_first_s"] <= answer.timings["model_text_s"]


def test_a_wrong_number_or_a_refusal_after_the_quote_is_not_shown(
        settings: Settings, corpus: Path) -> None:
    llm = ScriptedChatModel().enqueue("ALTER-S004研究的ORR为35.5%[1]。",
                                      "现有文献中未找到该问题的答案。")
    bot = _bot(settings, corpus, llm)
    for _ in range(2):
        texts, answer = _stream(bot, llm, ORR_Q)
        assert len(texts) == 1 and "35.5" not in answer.text and "未找到" not in answer.text
        assert not answer.abstained and answer.text == texts[0][0]
        assert "其ORR为28.57%" in answer.text


def test_off_question_sentence_after_the_quote_is_held_back(settings: Settings,
                                                            corpus: Path) -> None:
    llm = ScriptedChatModel().enqueue(
        "The aim of this study is to evaluate the efficacy and safety of pre-operative "
        "concurrent Stereotactic Body Radiotherapy (SBRT) [1].")
    bot = _bot(settings, corpus, llm)
    texts, answer = _stream(bot, llm, ENROL_Q)
    assert answer.text.startswith('The source states: "') and "43 participants" in answer.text
    assert "The aim of this study" not in answer.text and len(texts) == 1
    assert answer.checks[-1].action == "dropped"


def test_switched_off_the_first_text_is_the_models(settings: Settings, corpus: Path) -> None:
    llm = ScriptedChatModel().enqueue("ALTER-S004研究的ORR为28.57%[1]。")
    bot = _bot(settings, corpus, llm, quote_first=False)
    texts, answer = _stream(bot, llm, ORR_Q)
    assert texts == [("ALTER-S004研究的ORR为28.57%[1]。", 1)]
    assert answer.quoted == 0 and "quote_first_s" not in answer.timings


def test_a_two_value_question_waits_for_the_model(settings: Settings, corpus: Path) -> None:
    llm = ScriptedChatModel().enqueue("PR率分别为20.3%与9.8%[1]。")
    bot = _bot(settings, corpus, llm)
    question = "ISG-STS 1001研究中,同期放化疗与单纯化疗患者的PR率分别是多少?"
    texts, answer = _stream(bot, llm, question)
    assert texts and texts[0][1] == 1  # nothing before the model answered
    assert "quote_first_s" not in answer.timings


def test_http_stream_and_app_show_the_quote_then_the_checked_restatement(
        settings: Settings, corpus: Path) -> None:
    import openai

    from assistant.http_api import create_app, serve_in_thread
    from assistant.ui import ChatHandlers

    reply = ("The trial will enroll 43 participants in 1 patient group [4]. "
             "It will also enroll 900 healthy volunteers [4].")
    llm = ScriptedChatModel().enqueue(reply, reply)
    bot = _bot(settings, corpus, llm)
    quote = 'The source states: "43 participants in 1 patient group" [1]'
    with serve_in_thread(create_app(bot, bot.settings)) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
        chunks = list(client.chat.completions.create(
            model="clincite", stream=True, messages=[{"role": "user", "content": ENROL_Q}]))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert deltas[0] == quote  # the quote is the first text on the wire
    text = "".join(deltas)
    assert text.startswith(quote + " The trial will enroll 43 participants in 1 patient group "
                                   "[1].\n\nSources:")
    assert "900" not in text
    steps = list(ChatHandlers(bot).respond(ENROL_Q, [], []))
    partial = [s[0][-1]["content"] for s in steps if "checked so far" in s[0][-1]["content"]]
    assert partial and partial[0].startswith('The source states: "43 participants')
    assert not any("900" in s[0][-1]["content"] for s in steps)
