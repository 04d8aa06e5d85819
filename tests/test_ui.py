"""The app's handlers, called directly with the scripted LLM and the hashing embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.citations import REFUSAL
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel
from assistant.ui import ChatHandlers, answer_markdown, build_app, sources_html

from .helpers import without_quote_first


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The model's draft is what these tests are about: no quote shown first."""
    return without_quote_first(settings)


@pytest.fixture
def handlers(settings: Settings, corpus: Path) -> tuple[ChatHandlers, ScriptedChatModel]:
    llm = ScriptedChatModel()
    bot = Assistant(settings, embedder=HashingEmbedder(), llm=llm)
    bot.ingest([corpus])
    return ChatHandlers(bot), llm


def test_respond_streams_then_shows_checked_answer_and_sources(handlers) -> None:
    ui, llm = handlers
    llm.enqueue("The trial will enroll 43 participants in 1 patient group [4]. It will also "
                "enroll 900 healthy volunteers [4].")
    steps = list(ui.respond("How many participants will the SBRT trial enroll?", [], []))
    partial = [s[0][-1]["content"] for s in steps if "checked so far" in s[0][-1]["content"]]
    assert partial and "43 participants" in partial[0]
    # the unchecked draft never reaches the page: the invented 900 is in no step
    assert not any("900" in s[0][-1]["content"] for s in steps)
    chat, turns, sources, box = steps[-1]
    final = chat[-1]["content"]
    assert "43 participants in 1 patient group [[1]](#src-1)" in final
    assert "checked against its quoted source" in final
    assert 'id="src-1"' in sources and "<mark>43 participants in 1 patient group</mark>" in sources
    assert "clinical trial record" in sources and "en" in sources
    assert turns == [("How many participants will the SBRT trial enroll?",
                      "The trial will enroll 43 participants in 1 patient group [1].")]
    assert box == ""


def test_follow_up_uses_the_conversation(handlers) -> None:
    ui, llm = handlers
    llm.enqueue("What is the Lansky score required in the SBRT osteosarcoma trial?",
                "Lansky score is at least 70 or above [1].")
    turns = [("What ages are eligible for the SBRT osteosarcoma trial?",
              "Aged no less than 10 years old and no more than 65 years old [1].")]
    *_, (chat, new_turns, sources, _) = ui.respond("And its Lansky score?", [], turns)
    assert "What ages are eligible" in llm.history[0][-1].content
    assert "70" in chat[-1]["content"] and len(new_turns) == 2


def test_abstention_is_shown_with_closest_passages(handlers) -> None:
    ui, llm = handlers
    llm.enqueue(REFUSAL["zh"])
    *_, (chat, _, sources, _) = ui.respond("地舒单抗的推荐剂量是多少?", [], [])
    assert REFUSAL["zh"] in chat[-1]["content"]
    assert "Closest passages" in sources and "near-1" in sources


def test_filters_and_k_reach_retrieval(handlers, monkeypatch) -> None:
    from .conftest import spy_retrieval

    ui, llm = handlers
    seen = spy_retrieval(monkeypatch, ui.assistant.retriever)
    list(ui.respond("anlotinib sarcoma", [], [], doc_ids=["001_0640456118313415.txt"],
                    language="English (en)", k=2))
    # the search returns the checker's passages (both quote rings); the model reads k=2
    rings = ui.assistant.settings.answer
    assert len(seen[-1]) == max(rings.quote_passages, rings.quote_passages_more)
    assert {p.doc_id for p in seen[-1]} == {"001_0640456118313415.txt"}
    prompt = llm.history[-1][-1].content
    assert "Anlotinib combined with toripalimab" in prompt and '<passage n="3"' not in prompt


def test_errors_show_in_chat_not_as_traceback(settings: Settings) -> None:
    ui = ChatHandlers(Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel()))
    *_, (chat, _, _, _) = ui.respond("anything", [], [])
    assert chat[-1]["content"].startswith("⚠️ no documents indexed yet")


def test_upload_reports_each_file_and_makes_it_searchable(handlers, tmp_path: Path) -> None:
    ui, llm = handlers
    good = tmp_path / "note.md"
    good.write_text("# Chondrosarcoma note\n\nIvosidenib gave a 35.7% response rate in the "
                    "fictional ZETA-9 study.\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    status, table = ui.upload([str(good), str(empty)])
    assert "✅ **note.md**: added" in status and "❌ **empty.txt**" in status
    assert any(row[1] == "note.md" for row in table)
    llm.enqueue("Ivosidenib gave a 35.7% response rate in the ZETA-9 study [1].")
    *_, (chat, _, sources, _) = ui.respond("What response rate did ZETA-9 report?", [], [])
    assert "35.7%" in chat[-1]["content"] and "note.md" in sources


def test_markdown_and_html_escape_document_text() -> None:
    from assistant.types import Answer, Citation, RetrievedChunk

    chunk = RetrievedChunk(chunk_id="c", doc_id="d", title="<script>x</script>", text="a <b> c",
                           start=0, end=7, language="en")
    answer = Answer(question="q", standalone_question="q", text="a [1].", language="en",
                    abstained=False, retrieved=[chunk], citations=[Citation(
                        n=1, doc_id="d", title="<script>x</script>", chunk_id="c", start=0,
                        end=7, quote="<b>", quote_start=2, quote_end=5, language="en")])
    html = sources_html(answer)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark>&lt;b&gt;</mark>" in html
    assert "[[1]](#src-1)" in answer_markdown(answer)


def _one(app, kind: str, **attrs):
    found = [b for b in app.blocks.values() if type(b).__name__ == kind
             and all(getattr(b, a, None) == v for a, v in attrs.items())]
    assert len(found) == 1, (kind, attrs, found)
    return found[0]


def _events(app) -> list:
    return list(app.fns.values() if isinstance(app.fns, dict) else app.fns)


def test_app_builds(handlers, corpus: Path) -> None:
    """The built Blocks (never launched): its components, and the handlers they call."""
    ui, llm = handlers
    app = build_app(ui.assistant)
    manifest = (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    doc_ids = sorted(line.split("\t")[0] for line in manifest if line.strip())
    assert app.title == "ClinCite"
    markdown = " ".join(str(b.value) for b in app.blocks.values()
                        if type(b).__name__ == "Markdown")
    assert "Information from the indexed documents only" in markdown
    assert "Embedder `fake`" in markdown and "LLM `fake`" in markdown
    assert {b.label for b in app.blocks.values() if type(b).__name__ == "Tab"} == \
        {"Ask", "Documents"}
    chatbot = _one(app, "Chatbot", label="Conversation")
    box = _one(app, "Textbox", elem_id="question")
    ask = _one(app, "Button", value="Ask")
    sources = _one(app, "HTML", elem_id="sources")
    assert "Sources appear here." in sources.value
    docs = _one(app, "Dropdown", label="Only these documents (empty = all)")
    assert sorted(value for _, value in docs.choices) == doc_ids
    lang = _one(app, "Radio", label="Language")
    assert [value for _, value in lang.choices] == ["All", "中文 (zh)", "English (en)"]
    assert lang.value == "All"
    k = _one(app, "Slider", label="Passages given to the model")
    assert k.value == ui.assistant.settings.retrieval.k
    table = _one(app, "Dataframe", elem_id="documents")
    assert table.value["headers"] == ["title", "doc id", "kind", "language", "passages"]
    assert sorted(row[1] for row in table.value["data"]) == doc_ids
    _one(app, "File", label="Add documents")

    # Ask and Enter both call the chat handler with the question, the conversation and the
    # search settings, and update the conversation, the sources and the box
    events = {(t[0], t[1]): e for e in _events(app) for t in e.targets}
    for trigger in [(ask._id, "click"), (box._id, "submit")]:
        event = events[trigger]
        assert event.fn.__func__ is ChatHandlers.respond
        assert event.fn.__self__.assistant is ui.assistant
        assert [c._id for c in event.inputs][:2] == [box._id, chatbot._id]
        assert {docs._id, lang._id, k._id} <= {c._id for c in event.inputs}
        assert {chatbot._id, sources._id, box._id} <= {c._id for c in event.outputs}
    upload = _one(app, "File", label="Add documents")
    assert {docs._id, table._id} <= {c._id for c in events[(upload._id, "upload")].outputs}

    # the wired handler answers: the last step shows the checked answer and its source card
    llm.enqueue("The trial will enroll 43 participants in 1 patient group [4].")
    event = events[(ask._id, "click")]
    steps = list(event.fn("How many participants will the SBRT trial enroll?", [], [], [],
                          "All", 4))
    chat, _turns, cards, _box = steps[-1]
    assert "43 participants in 1 patient group [[1]](#src-1)" in chat[-1]["content"]
    assert 'id="src-1"' in cards
