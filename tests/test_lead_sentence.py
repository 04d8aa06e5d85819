"""What the model reads holds the evidence sentence: where none of the k passages it reads holds
a sentence that the question's measure and every subject bind, the best such sentence of a
lower-ranked passage is added as one more short passage (issue 11: "evidence sentences chosen
by meaning, not only words")."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.chain import AnswerChain
from assistant.citations import AnswerChecker
from assistant.config import Settings
from assistant.decide import question_parts
from assistant.types import RetrievedChunk

QUESTION = "How many participants will the SBRT plus PD-1 osteosarcoma trial enroll?"
SBRT_TITLE = "Pre-operative SBRT plus PD-1 blockade for osteosarcoma"


def passage(chunk_id: str, doc_id: str, title: str, text: str, start: int = 0) -> RetrievedChunk:
    """A retrieved English passage of ``doc_id`` holding ``text`` from ``start``."""
    return RetrievedChunk(chunk_id=chunk_id, doc_id=doc_id, title=title, text=text, start=start,
                          end=start + len(text), language="en")


BACKGROUND = passage("c1", "d1", SBRT_TITLE, "Osteosarcoma is a primary bone malignant tumor. "
                     "SBRT and PD-1 blockade may act together in osteosarcoma.")
TAIL = passage("c2", "d1", SBRT_TITLE,
               "Study design. Estimated enrollment: 43 participants in 1 patient group.", 100)
AGAIN = passage("c3", "d1", SBRT_TITLE, "Enrollment: 43 participants (estimated).", 170)


def lead(passages: list[RetrievedChunk], model_input: str = "", on: bool = True,
         question: str = QUESTION) -> str:
    """``AnswerChain._lead_block`` on a chain that needs only its settings."""
    settings = Settings()
    settings.answer.lead_sentence = on
    chain = SimpleNamespace(settings=settings)
    turn = SimpleNamespace(standalone=question, model_k=1, similarities={},
                           model_input=model_input)
    checker = AnswerChecker(passages, "en", question=question)
    return AnswerChain._lead_block(chain, turn, checker, question_parts(question))  # type: ignore[arg-type]


def test_a_lower_ranked_passages_bound_sentence_is_added() -> None:
    block = lead([BACKGROUND, TAIL], "<passage n=\"1\">Osteosarcoma is …</passage>")
    assert block.strip().startswith('<passage n="2"')
    assert "43 participants in 1 patient group" in block and "Study design" not in block


@pytest.mark.parametrize("passages, model_input, on", [
    ([TAIL, BACKGROUND], "", True),  # the first passage, which the model reads, holds it
    ([TAIL, AGAIN], "", True),  # … and a lower-ranked one too: nothing more is added
    ([BACKGROUND, TAIL], "", False),  # switched off
    ([BACKGROUND, TAIL], "Estimated enrollment: 43 participants in 1 patient group.", True),
])
def test_no_lead_where_the_model_reads_it_or_it_is_off(passages: list, model_input: str,
                                                       on: bool) -> None:
    assert lead(passages, model_input, on) == ""


def test_no_lead_without_a_measure_and_a_subject_that_bind() -> None:
    # no subject named: a sentence chosen by words alone is not added
    assert lead([BACKGROUND, TAIL], question="How many participants are there?") == ""


def test_a_passage_block_cuts_a_long_title_and_keeps_its_quotes_out() -> None:
    """The lead passage and the excerpted passages are written by one function: a title is
    cut to TITLE_CHARS weighted characters (it repeats in every block) and cannot close the
    attribute with a double quote."""
    from assistant.chain import TITLE_CHARS, passage_block

    long_title = 'A "randomised" trial ' + "of anlotinib " * 20
    block = passage_block(4, long_title, "43 participants in 1 patient group")
    title = block.split('title="', 1)[1].split('">', 1)[0]
    assert block.startswith('<passage n="4" ') and '"' not in title and title.endswith("…")
    assert len(title) <= TITLE_CHARS + 1
    assert long_title.replace('"', "'").strip() in passage_block(1, long_title, "x",
                                                                 cut_title=False)


# two studies asked side by side: each is a part of its own, and each part gets its lead
BOTH = ("How many participants do the anlotinib plus toripalimab trial and the SBRT plus PD-1 "
        "osteosarcoma trial each plan to enroll?")
ANLOTINIB = passage("c4", "d2", "Anlotinib combined with toripalimab in soft tissue sarcoma",
                    "Estimated enrollment: 70 participants in 1 patient group.")


def test_each_study_asked_side_by_side_gets_its_lead() -> None:
    # the model reads the anlotinib trial's figure; the SBRT trial's is ranked 3rd
    block = lead([ANLOTINIB, BACKGROUND, TAIL], question=BOTH)
    assert block.strip().startswith('<passage n="3"') and "43 participants" in block
    assert "70 participants" not in block  # the part the model reads already: no lead
    # neither read: both parts get one, in the question's order
    both = lead([BACKGROUND, ANLOTINIB, TAIL], question=BOTH)
    assert both.index("70 participants") < both.index("43 participants")


# No measure names what is asked (round 14, dev en-20: "What is the incidence of bone metastasis
# in patients with advanced breast cancer?", the sentence stating it 8th by rank): where the
# passages the model reads offer no quote at all, the lower-ranked sentence that words and
# meaning choose is read too, though no measure binds it. Seen red with ``unbound_ok`` False.
INCIDENCE_Q = "What is the incidence of bone metastasis in patients with advanced breast cancer?"
BONE_TITLE = "Managing bone metastases of breast cancer"
CARE = passage("c5", "d3", BONE_TITLE,
               "Bone-modifying agents should be started early. Multidisciplinary care helps.")
INCIDENCE = passage("c6", "d3", BONE_TITLE, "Bone is the commonest site of spread. The incidence "
                    "of bone metastasis in patients with advanced breast cancer is about "
                    "65%-75%.", 80)
STATED = passage("c7", "d3", BONE_TITLE,
                 "In advanced breast cancer the incidence of bone metastasis is about 70%.", 200)


def test_an_unbound_sentence_is_read_where_the_read_passages_offer_no_quote() -> None:
    block = lead([CARE, INCIDENCE], question=INCIDENCE_Q)
    assert block.strip().startswith('<passage n="2"') and "65%-75%" in block


def test_no_unbound_lead_where_a_read_passage_offers_a_quote() -> None:
    # the passage the model reads states it in other words: nothing more is added
    assert lead([STATED, INCIDENCE], question=INCIDENCE_Q) == ""


# One study, a measure asked, no retrieved passage binding it (round 14, dev d6-10: "How many
# patients … does the SBRT plus PD-1 trial plan to enroll?", the record's "43 participants in 1
# patient group" outside the 10 passages retrieved): a search of its own with the lexicon's
# names in the other language, as for a study asked side by side; its bound sentence is read.
# ``side`` stands in for ``AnswerChain._side_quote`` (the search and its passages). Seen red
# with the search kept to studies asked side by side.
def test_a_search_of_its_own_where_no_retrieved_passage_binds_the_measure() -> None:
    from assistant.citations import PassageView

    calls: list[frozenset] = []

    def side(turn, checker, want, measure, quoted):
        calls.append(want.entities)
        view = PassageView.of(len(checker.views) + 1, TAIL)
        checker.views.append(view)
        return view, view.sentences[-1]

    settings = Settings()
    chain = SimpleNamespace(settings=settings, _side_quote=side)
    turn = SimpleNamespace(standalone=QUESTION, model_k=1, similarities={}, model_input="")
    checker = AnswerChecker([BACKGROUND], "en", question=QUESTION)
    block = AnswerChain._lead_block(chain, turn, checker, question_parts(QUESTION))  # type: ignore[arg-type]
    assert calls and "43 participants in 1 patient group" in block
    # no measure asked: no search of its own
    calls.clear()
    other = "Which imaging is done before SBRT in the PD-1 osteosarcoma trial?"
    checker = AnswerChecker([BACKGROUND], "en", question=other)
    turn.standalone = other
    AnswerChain._lead_block(chain, turn, checker, question_parts(other))  # type: ignore[arg-type]
    assert not calls
