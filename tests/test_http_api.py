"""The OpenAI-compatible HTTP API, running on 127.0.0.1 in this process (uvicorn in a thread),
driven with the official ``openai`` client, LangChain's ``ChatOpenAI`` and plain httpx for the
hostile requests. Stand-in models: the hashing embedder and the scripted LLM."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from pydantic import SecretStr

from assistant import Assistant, Settings
from assistant.citations import REFUSAL
from assistant.http_api import (
    checked_deltas,
    create_app,
    is_loopback,
    key_required,
    serve_in_thread,
    strip_sources,
)
from assistant.models import HashingEmbedder
from assistant.testing import ScriptedChatModel
from assistant.types import Answer, Citation, StreamEvent

from .helpers import without_quote_first

SBRT_Q = "How many participants will the SBRT trial enroll?"
SBRT_REPLY = "The trial will enroll 43 participants in 1 patient group [4]."
SBRT_CHECKED = "The trial will enroll 43 participants in 1 patient group [1]."
SBRT_DOC = "002_bd6c93367f61d5fe.txt"
SBRT_TITLE = "Pre-operative SBRT plus PD-1 blockade"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The model's draft is what these tests are about: no quote shown first."""
    return without_quote_first(settings)


@pytest.fixture
def bot(settings: Settings, corpus: Path) -> Assistant:
    assistant = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    assistant.ingest([corpus])
    return assistant


@pytest.fixture
def llm(bot: Assistant) -> ScriptedChatModel:
    return bot._llm


def _serve(bot: Assistant, settings: Settings | None = None, host: str = "127.0.0.1"):
    return serve_in_thread(create_app(bot, settings or bot.settings, host=host))


@pytest.fixture
def url(bot: Assistant) -> Iterator[str]:
    with _serve(bot) as base:
        yield base


@pytest.fixture
def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="unused-on-loopback", max_retries=0)


def _assert_error(response: httpx.Response, status: int, code: str | None = None,
                  says: str = "", param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    error = body["error"]
    assert "\n" not in error["message"] and "Traceback" not in error["message"]
    assert says.lower() in error["message"].lower(), error["message"]
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return error


# -- chat completions -------------------------------------------------------------------------


def test_models_are_clincite_and_its_llm(client: openai.OpenAI, settings: Settings) -> None:
    models = client.models.list().data
    assert [m.id for m in models] == ["clincite", settings.llm.model]
    assert models[0].model_extra["clincite"]["embedder"] == settings.embedder.model
    assert client.models.retrieve("clincite").id == "clincite"


def test_completion_is_the_checked_answer_with_sources(client: openai.OpenAI,
                                                       llm: ScriptedChatModel) -> None:
    llm.enqueue(SBRT_REPLY)
    completion = client.chat.completions.create(
        model="clincite", messages=[{"role": "user", "content": SBRT_Q}])
    content = completion.choices[0].message.content
    assert content.startswith(SBRT_CHECKED)
    sources = content.split("\n\nSources:\n", 1)[1]
    assert sources.startswith(f"[1] {SBRT_TITLE}")
    assert f"({SBRT_DOC}): \"" in sources
    assert "43 participants in 1 patient group" in sources
    assert completion.choices[0].finish_reason == "stop"
    extra = completion.model_extra["clincite"]
    assert extra["abstained"] is False and extra["text"] == SBRT_CHECKED
    [cite] = extra["citations"]
    assert cite["n"] == 1 and cite["doc_id"] == SBRT_DOC and cite["page"] is None
    assert "43 participants in 1 patient group" in cite["quote"]
    assert extra["timings"]["total_s"] > 0
    assert "draft" not in extra and "checks" not in extra


def test_stream_sends_only_checked_text(client: openai.OpenAI, llm: ScriptedChatModel) -> None:
    # the second sentence is unsupported: the checker drops it, so no client may ever see it
    llm.enqueue(SBRT_REPLY + " The moon is made of green cheese [2].")
    chunks = list(client.chat.completions.create(
        model="clincite", stream=True, messages=[{"role": "user", "content": SBRT_Q}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "cheese" not in text
    assert text.startswith(SBRT_CHECKED + "\n\nSources:\n[1] " + SBRT_TITLE)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    extra = chunks[-1].model_extra["clincite"]
    assert extra["citations"][0]["doc_id"] == SBRT_DOC
    assert all(c.id == chunks[0].id for c in chunks)


def test_stream_ends_with_done_on_the_wire(url: str, llm: ScriptedChatModel) -> None:
    llm.enqueue(SBRT_REPLY)
    body = {"model": "clincite", "stream": True, "messages": [{"role": "user",
                                                               "content": SBRT_Q}]}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in response.iter_lines() if ln]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(ln[len("data: "):]) for ln in lines[:-1]]
    assert {e["object"] for e in events} == {"chat.completion.chunk"}
    assert "draft" not in json.dumps(events)


def test_abstention_has_no_sources(client: openai.OpenAI, llm: ScriptedChatModel) -> None:
    llm.enqueue(REFUSAL["zh"])
    completion = client.chat.completions.create(
        model="clincite", messages=[{"role": "user", "content": "地舒单抗的推荐剂量是多少?"}])
    assert completion.choices[0].message.content == REFUSAL["zh"]
    assert completion.model_extra["clincite"]["abstained"] is True


def test_earlier_turns_are_the_history(client: openai.OpenAI, llm: ScriptedChatModel) -> None:
    llm.enqueue("What is the Lansky score required in the SBRT osteosarcoma trial?",
                "Lansky score is at least 70 or above [1].")
    earlier = ("Aged no less than 10 years old and no more than 65 years old [1].\n\n"
               "Sources:\n[1] Stereotactic body radiotherapy (x.txt): \"Aged ...\"")
    completion = client.chat.completions.create(model="clincite", messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What ages are eligible for the SBRT osteosarcoma trial?"},
        {"role": "assistant", "content": earlier},
        {"role": "user", "content": [{"type": "text", "text": "And its Lansky score?"}]}])
    condense_prompt = llm.history[0][-1].content
    assert "What ages are eligible" in condense_prompt and "65 years old [1]" in condense_prompt
    assert "Sources:" not in condense_prompt and "helpful assistant" not in condense_prompt
    assert "70" in completion.choices[0].message.content


def test_filters_and_k_from_extra_body(client: openai.OpenAI, llm: ScriptedChatModel,
                                       bot: Assistant, monkeypatch) -> None:
    from .conftest import spy_retrieval

    seen = spy_retrieval(monkeypatch, bot.retriever)
    client.chat.completions.create(
        model="clincite", messages=[{"role": "user", "content": "anlotinib sarcoma"}],
        extra_body={"clincite": {"filters": {"doc_id": ["001_0640456118313415.txt"]},
                                 "k": 2}})
    # the search returns the checker's passages (both quote rings); the model reads k=2
    rings = bot.settings.answer
    assert len(seen[-1]) == max(rings.quote_passages, rings.quote_passages_more)
    assert {p.doc_id for p in seen[-1]} == {"001_0640456118313415.txt"}
    prompt = llm.history[-1][-1].content
    assert "Anlotinib combined with toripalimab" in prompt and '<passage n="3"' not in prompt


def test_langchain_chat_openai_against_the_server(url: str, llm: ScriptedChatModel) -> None:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(base_url=url + "/v1", api_key="unused", model="clincite", max_retries=0)
    llm.enqueue(SBRT_REPLY, SBRT_REPLY)
    message = chat.invoke(SBRT_Q)
    assert message.content.startswith(SBRT_CHECKED)
    assert "\n\nSources:\n[1]" in message.content
    streamed = "".join(str(piece.content) for piece in chat.stream(SBRT_Q))
    assert streamed == message.content


def test_error_after_the_stream_began_is_an_openai_error(url: str, llm: ScriptedChatModel
                                                         ) -> None:
    def broken(_messages):
        raise ConnectionError("connection refused")

    llm.responder = broken
    client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
    stream = client.chat.completions.create(model="clincite", stream=True,
                                            messages=[{"role": "user", "content": SBRT_Q}])
    with pytest.raises(openai.APIError, match="the LLM failed"):
        list(stream)


class _Draft:
    """Stand-ins for what Assistant.stream yields, old chain (token events) and new (text)."""

    @staticmethod
    def answer(text: str) -> Answer:
        return Answer(question="q", standalone_question="q", text=text, language="en",
                      abstained=False, draft="UNCHECKED DRAFT")

    @staticmethod
    def event(kind: str, text: str = "", answer: Answer | None = None) -> StreamEvent:
        # model_construct: the "text" kind is issue 11's, not yet in every branch's Literal
        return StreamEvent.model_construct(kind=kind, text=text, answer=answer)


@pytest.mark.parametrize(("events", "expected"), [
    # draft tokens are never passed on; the whole checked text comes with the answer
    ([("status", "retrieving"), ("token", "UNCHECKED "), ("token", "DRAFT"),
      ("status", "checking"), ("answer", "A [1].")], ["A [1]."]),
    # checked text is passed on as it comes; the answer adds only what is missing
    ([("text", "A [1]. "), ("text", "B [2]."), ("answer", "A [1]. B [2].")],
     ["A [1]. ", "B [2]."]),
    ([("text", "A [1]. "), ("answer", "A [1]. B [2].")], ["A [1]. ", "B [2]."]),
    # a final text that disagrees with what was sent still arrives whole
    ([("text", "A [1]. "), ("answer", "C [1].")], ["A [1]. ", "\n\nC [1]."]),
])
def test_checked_deltas(events: list[tuple[str, str]], expected: list[str]) -> None:
    stream = [_Draft.event(k, answer=_Draft.answer(t)) if k == "answer" else _Draft.event(k, t)
              for k, t in events]
    out = list(checked_deltas(stream))
    assert out[:-1] == expected
    assert isinstance(out[-1], Answer)
    assert not any("UNCHECKED" in o for o in out[:-1])


def test_strip_sources() -> None:
    assert strip_sources("A [1].\n\nSources:\n[1] T (d): \"q\"") == "A [1]."
    assert strip_sources("No sources here.") == "No sources here."


# -- hostile requests -------------------------------------------------------------------------


def _post(url: str, body=None, **kw) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=30, **kw)


@pytest.mark.parametrize(("body", "status", "code", "says", "param"), [
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, 404,
     "model_not_found", "the model 'gpt-4o' does not exist here", "model"),
    ({"model": "clincite", "messages": []}, 400, "empty_messages", "messages is empty",
     "messages"),
    ({"model": "clincite"}, 400, "invalid_request", "messages: Field required", "messages"),
    ({"model": 5, "messages": [{"role": "user", "content": "hi"}]}, 400, "invalid_request",
     "model: Input should be a valid string", "model"),
    ({"model": "clincite", "messages": "hi"}, 400, "invalid_request",
     "messages: Input should be a valid list", "messages"),
    ({"model": "clincite", "messages": [{"role": "robot", "content": "hi"}]}, 400,
     "invalid_request", "messages.0.role: Input should be", "messages.0.role"),
    ({"model": "clincite", "stream": "yes", "messages": [{"role": "user", "content": "q"}]},
     400, "invalid_request", "stream: Input should be a valid boolean", "stream"),
    ({"model": "clincite", "messages": [{"role": "assistant", "content": "hi"}]}, 400,
     "invalid_value", "the last message is from 'assistant'", "messages"),
    ({"model": "clincite", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}, 400,
     "unsupported_content", "unsupported content part type 'image_url'", "messages"),
    ({"model": "clincite", "n": 3, "messages": [{"role": "user", "content": "q"}]}, 400,
     "invalid_value", "n must be 1", "n"),
    ({"model": "clincite", "messages": [{"role": "user", "content": "   "}]}, 400,
     "bad_question", "the question is empty", None),
    ({"model": "clincite", "messages": [{"role": "user", "content": "x" * 5000}]}, 400,
     "bad_question", "ask in at most 4000", None),
    ({"model": "clincite", "messages": [{"role": "user", "content": "q"}],
      "clincite": {"filters": {"colour": ["red"]}}}, 400, "invalid_request",
     "clincite.filters.colour", None),
    ([1, 2, 3], 400, "invalid_request", "Input should be a valid dictionary", None),
])
def test_hostile_requests_get_openai_errors(url: str, body, status: int, code: str, says: str,
                                            param: str | None) -> None:
    _assert_error(_post(url, body), status, code, says, param)


def test_hostile_requests_through_the_openai_client(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="does not exist here"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user",
                                                                  "content": "hi"}])
    with pytest.raises(openai.BadRequestError, match="messages is empty"):
        client.chat.completions.create(model="clincite", messages=[], stream=True)


@pytest.mark.parametrize("streamed", [False, True])
def test_huge_body_is_refused_before_it_is_parsed(url: str, streamed: bool) -> None:
    content = "骨" * (2 * 1024 * 1024)  # 6 MB of UTF-8, over the 1024 KB default
    raw = json.dumps({"model": "clincite", "messages": [{"role": "user", "content": content}]},
                     ensure_ascii=False).encode()
    if streamed:  # chunked: no Content-Length to refuse it by
        response = httpx.post(url + "/v1/chat/completions", timeout=30,
                              content=iter([raw[i:i + 65536]
                                            for i in range(0, len(raw), 65536)]),
                              headers={"Content-Type": "application/json"})
    else:
        response = httpx.post(url + "/v1/chat/completions", content=raw, timeout=30,
                              headers={"Content-Type": "application/json"})
    _assert_error(response, 413, "request_too_large", "the request body is over 1024 KB")


def test_bad_json_and_unknown_paths(url: str) -> None:
    _assert_error(httpx.post(url + "/v1/chat/completions", content=b"{not json",
                             headers={"Content-Type": "application/json"}), 400,
                  "invalid_request", "the request body is not valid JSON")
    _assert_error(httpx.get(url + "/v1/completions"), 404, "not_found", "no such endpoint")
    _assert_error(httpx.get(url + "/v1/chat/completions"), 405, "method_not_allowed",
                  "GET is not allowed")
    _assert_error(httpx.get(url + "/"), 404, "not_found", "no such endpoint")


def test_empty_index_is_an_error_before_any_stream(settings: Settings) -> None:
    empty = Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel())
    body = {"model": "clincite", "messages": [{"role": "user", "content": "anything"}]}
    with _serve(empty) as base:
        for stream in (False, True):
            _assert_error(_post(base, {**body, "stream": stream}), 409, "empty_index",
                          "no documents indexed yet")


# -- documents --------------------------------------------------------------------------------


def _upload(url: str, name: str, data: bytes, headers: dict | None = None) -> httpx.Response:
    return httpx.post(url + "/v1/documents", files={"file": (name, data)}, timeout=60,
                      headers=headers)


def test_documents_upload_list_ask_delete(url: str, client: openai.OpenAI,
                                          llm: ScriptedChatModel) -> None:
    note = b"# Chondrosarcoma note\n\nIvosidenib gave a 35.7% response rate in ZETA-9.\n"
    response = _upload(url, "zeta note.md", note)
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["status"] == "added" and added["doc_id"] == "zeta_note.md"
    assert added["title"] == "Chondrosarcoma note" and added["chunks"] == 1
    assert _upload(url, "zeta note.md", note).json()["status"] == "skipped"

    listed = httpx.get(url + "/v1/documents").json()["data"]
    assert "zeta_note.md" in [d["doc_id"] for d in listed] and len(listed) == 6

    llm.enqueue("Ivosidenib gave a 35.7% response rate in ZETA-9 [1].")
    completion = client.chat.completions.create(model="clincite", messages=[
        {"role": "user", "content": "What response rate did ZETA-9 report?"}])
    assert completion.model_extra["clincite"]["citations"][0]["doc_id"] == "zeta_note.md"

    deleted = httpx.delete(url + "/v1/documents/zeta_note.md")
    assert deleted.json() == {"object": "document.deleted", "doc_id": "zeta_note.md",
                              "deleted": True, "chunks": 1}
    assert len(httpx.get(url + "/v1/documents").json()["data"]) == 5
    _assert_error(httpx.delete(url + "/v1/documents/zeta_note.md"), 404,
                  "document_not_found", "no document 'zeta_note.md' in the index")


@pytest.mark.parametrize(("name", "data", "status", "says"), [
    ("empty.txt", b"", 400, "empty.txt: the file is empty; nothing to ingest"),
    ("tool.exe", b"MZ\x90\x00", 400, "tool.exe: unsupported file type '.exe'"),
    ("blob.txt", b"\x00\x01\x02binary", 400, "blob.txt: looks like a binary file"),
    ("scan.pdf", b"%PDF-1.4 not really", 400, "scan.pdf: the PDF could not be parsed"),
    ("", b"text", 400, ""),
    (".hidden.txt", b"text", 400, "the upload has no usable file name"),
])
def test_bad_uploads_get_the_cli_messages(url: str, name: str, data: bytes, status: int,
                                          says: str) -> None:
    _assert_error(_upload(url, name, data), status, None, says)
    assert len(httpx.get(url + "/v1/documents").json()["data"]) == 5


def test_upload_over_the_size_limit(settings: Settings) -> None:
    small = settings.model_copy(update={"max_file_mb": 0.01})  # 10 KiB
    with _serve(Assistant(small, embedder=HashingEmbedder(), llm=ScriptedChatModel())) as base:
        ok = _upload(base, "fits.txt", b"Denosumab reduced skeletal events. " * 100)
        assert ok.status_code == 201, ok.text
        too_big = _upload(base, "big.txt", b"Denosumab reduced skeletal events. " * 400)
        _assert_error(too_big, 413, "ingest_failed", "big.txt: the file is 0.0 MB, over the")
        huge = _upload(base, "huge.txt", b"x" * (3 * 1024 * 1024))
        _assert_error(huge, 413, "request_too_large", "the upload is over the 0.01 MB limit")


def test_upload_missing_file_field(url: str) -> None:
    _assert_error(httpx.post(url + "/v1/documents", data={"other": "x"}), 400,
                  "invalid_request", "file: Field required", "file")


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "keys", "always", "required"), [
    ("127.0.0.1", [], False, False),
    ("localhost", [], False, False),
    ("::1", [], False, False),
    ("127.0.0.2", [], False, False),  # all of 127/8 is loopback
    ("127.0.0.1", ["k"], False, True),  # keys set: used on loopback too
    ("127.0.0.1", [], True, True),  # e.g. behind a reverse proxy on this machine
    ("0.0.0.0", [], False, True),
    ("::", [], False, True),
    ("192.168.1.20", ["k"], False, True),
    ("clincite.example.org", [], False, True),  # a name: assume it is reachable
])
def test_key_required(host: str, keys: list[str], always: bool, required: bool) -> None:
    assert key_required(host, keys, always) is required
    assert is_loopback(host) is (host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))


def test_non_loopback_listener_without_keys_refuses_everything(bot: Assistant) -> None:
    # bound to 127.0.0.1, but told it listens on 0.0.0.0 as `clincite serve --host 0.0.0.0`
    with _serve(bot, host="0.0.0.0") as base:
        for path in ("/v1/models", "/v1/documents"):
            error = _assert_error(httpx.get(base + path), 401, "no_api_keys_configured",
                                  "listens on 0.0.0.0, beyond loopback, and has no API keys")
            assert "CLINCITE_SERVER__API_KEYS" in error["message"]
        client = openai.OpenAI(base_url=base + "/v1", api_key="anything", max_retries=0)
        with pytest.raises(openai.AuthenticationError, match="no API keys"):
            client.chat.completions.create(model="clincite",
                                           messages=[{"role": "user", "content": SBRT_Q}])


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_api_keys(bot: Assistant, llm: ScriptedChatModel, host: str,
                  caplog: pytest.LogCaptureFixture) -> None:
    keyed = bot.settings.model_copy(update={"server": bot.settings.server.model_copy(
        update={"api_keys": [SecretStr("first-key"), SecretStr("s3cret-key")]})})
    caplog.set_level(logging.DEBUG)
    with _serve(bot, keyed, host=host) as base:
        _assert_error(httpx.get(base + "/v1/models"), 401, "missing_api_key",
                      "missing API key: send 'Authorization: Bearer <key>'")
        _assert_error(httpx.get(base + "/v1/models", headers={"Authorization": "Bearer nope"}),
                      401, "invalid_api_key", "invalid API key")
        _assert_error(httpx.get(base + "/v1/models", headers={"Authorization": "s3cret-key"}),
                      401, "missing_api_key")
        assert httpx.get(base + "/v1/models", headers={
            "Authorization": "Bearer s3cret-key"}).status_code == 200
        llm.enqueue(SBRT_REPLY)
        client = openai.OpenAI(base_url=base + "/v1", api_key="s3cret-key", max_retries=0)
        completion = client.chat.completions.create(
            model="clincite", messages=[{"role": "user", "content": SBRT_Q}])
        assert completion.choices[0].message.content.startswith(SBRT_CHECKED)
        _assert_error(_upload(base, "x.txt", b"text"), 401, "missing_api_key")
    assert "s3cret-key" not in caplog.text and "s3cret-key" not in repr(keyed)
    assert "s3cret-key" not in keyed.model_dump_json()


def test_require_api_key_on_loopback(bot: Assistant) -> None:
    strict = bot.settings.model_copy(update={"server": bot.settings.server.model_copy(
        update={"require_api_key": True})})
    with _serve(bot, strict) as base:
        _assert_error(httpx.get(base + "/v1/models"), 401, "no_api_keys_configured")


def test_api_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINCITE_SERVER__API_KEYS", "alpha, beta")
    assert [k.get_secret_value() for k in Settings().server.api_keys] == ["alpha", "beta"]
    monkeypatch.setenv("CLINCITE_SERVER__API_KEYS", '["gamma"]')
    assert [k.get_secret_value() for k in Settings().server.api_keys] == ["gamma"]
    assert "gamma" not in repr(Settings())


def test_server_settings_do_not_change_the_fingerprint(settings: Settings) -> None:
    keyed = settings.model_copy(update={"server": settings.server.model_copy(
        update={"api_keys": [SecretStr("k")], "require_api_key": True})})
    assert keyed.fingerprint() == settings.fingerprint()


# -- the app and the API on one port ----------------------------------------------------------


def test_serve_mounts_the_app_and_the_api_on_one_port(bot: Assistant,
                                                      llm: ScriptedChatModel) -> None:
    from assistant.ui import serve
    from tests.apprunner import free_port

    with serve(bot.settings, port=free_port(), assistant=bot, block=False) as base:
        page = httpx.get(base + "/", timeout=30)
        assert page.status_code == 200 and "<html" in page.text.lower()
        llm.enqueue(SBRT_REPLY)
        client = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
        completion = client.chat.completions.create(
            model="clincite", messages=[{"role": "user", "content": SBRT_Q}])
        assert completion.choices[0].message.content.startswith(SBRT_CHECKED)


def test_citation_page_in_sources_list() -> None:
    from assistant.http_api import sources_text

    answer = Answer(question="q", standalone_question="q", text="A [1].", language="en",
                    abstained=False, citations=[Citation(
                        n=1, doc_id="trial.pdf", title="Trial", chunk_id="c", start=0, end=9,
                        quote="A\nquote.", quote_start=0, quote_end=8, language="en",
                        page=4)])
    assert sources_text(answer) == '\n\nSources:\n[1] Trial (trial.pdf, p. 4): "A quote."'


# -- the `clincite api` command ---------------------------------------------------------------


def test_cli_api_refuses_a_public_address_without_keys(capsys: pytest.CaptureFixture) -> None:
    from assistant.cli import main

    assert main(["api", "--host", "0.0.0.0", "--port", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("error: refusing to serve the API on 0.0.0.0 without API keys: set "
                   "CLINCITE_SERVER__API_KEYS=<key>[,<key>...] or listen on 127.0.0.1")


@pytest.mark.chroma  # the index is written here and read by the server's process
def test_cli_api_serves_the_index(settings: Settings, corpus: Path, tmp_path: Path) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time

    from tests.apprunner import free_port

    Assistant(settings, embedder=HashingEmbedder(), llm=ScriptedChatModel()).ingest([corpus])
    port = free_port()
    env = {**os.environ, "CLINCITE_SERVER__API_KEYS": "k1"}  # conftest set the fakes
    with open(tmp_path / "api.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "api", "--port",
                                 str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, "clincite api did not start"
            time.sleep(0.2)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k1",
                               max_retries=0)
        completion = client.chat.completions.create(model="clincite", messages=[
            {"role": "user",
             "content": "How many participants in 1 patient group does the SBRT trial have?"}])
        text = completion.choices[0].message.content
        # the stand-in model's sentence, or the source sentence quoted: cited either way
        assert "43 participants in 1 patient group" in text and "[1]" in text
        _assert_error(httpx.get(f"http://127.0.0.1:{port}/v1/models"), 401, "missing_api_key")
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) is not None
    assert "http://127.0.0.1:" in (tmp_path / "api.log").read_text()
