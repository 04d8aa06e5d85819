"""One obvious place per extension: embedders, chat models, file types and vector stores are
registry entries; the app's upload box and `ingest` read the same list of file types."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import models
from assistant.config import Settings
from assistant.errors import ConfigError
from ingest.loaders import LOADERS, SUPPORTED, FileType, load_document


def test_upload_types_are_the_loader_registry() -> None:
    from assistant.ui import UPLOAD_TYPES

    assert UPLOAD_TYPES == sorted(LOADERS)
    # the suffixes that had drifted apart from the upload box
    assert {".markdown", ".text", ".xhtml"} <= set(UPLOAD_TYPES)


@pytest.mark.parametrize(("suffix", "body", "kind", "title"), [
    (".text", "Plain text about denosumab and skeletal events in 2024.", "document", ""),
    (".markdown", "# Heading\n\nZoledronic acid reduced skeletal events.", "document", ""),
    (".xhtml", "<html><head><title>X page</title></head><body><p>Osteosarcoma trial enrolled "
               "43 participants in one group.</p></body></html>", "web page", "X page"),
])
def test_every_registered_suffix_loads(tmp_path: Path, suffix: str, body: str, kind: str,
                                       title: str) -> None:
    path = tmp_path / f"doc{suffix}"
    path.write_text(body, encoding="utf-8")
    doc = load_document(path, doc_id=path.name)
    assert doc.kind == kind
    assert "<" not in doc.text and len(doc.text) > 20
    if title:
        assert doc.title == title


def test_a_new_file_type_is_one_registry_line(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.loaders import Extracted

    path = tmp_path / "note.rst"
    path.write_text("ignored", encoding="utf-8")
    with pytest.raises(Exception, match="unsupported file type '.rst'"):
        load_document(path, doc_id="note.rst")
    monkeypatch.setitem(LOADERS, ".rst", FileType(
        lambda p: Extracted("Restructured text about anlotinib dosing in sarcoma.", "RST"),
        "notes"))
    doc = load_document(path, doc_id="note.rst")
    assert (doc.title, doc.kind) == ("RST", "notes") and "anlotinib" in doc.text
    assert ".rst" not in SUPPORTED  # SUPPORTED is the registry's keys when loaded


@pytest.mark.parametrize(("spec", "name"), [
    ("fake", "fake-hashing-256"),
    ("openai:text-embedding-3-small", "openai:text-embedding-3-small"),
    ("st:/models/gemma", "st:gemma"),
    ("default", "st:embeddinggemma-300m"),
])
def test_embedder_names_come_from_the_registry(spec: str, name: str) -> None:
    assert models.embedder_name(Settings(embedder={"model": spec})) == name


def test_unknown_embedder_or_llm_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="^CLINCITE_EMBEDDER__MODEL='bert:x' is not a known "
                                          "model: .*kinds: st, openai, fake"):
        models.embedder_name(Settings(embedder={"model": "bert:x"}))
    with pytest.raises(ConfigError, match="^CLINCITE_LLM__MODEL='ollama:q' is not a known "
                                          "model: .*kinds: llamacpp, openai, fake"):
        models.build_chat_model(Settings(llm={"model": "ollama:q"}))


def test_chat_models_from_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.testing import ScriptedChatModel

    assert isinstance(models.build_chat_model(Settings(llm={"model": "fake"})),
                      ScriptedChatModel)
    seen: list[tuple[str, str]] = []
    monkeypatch.setitem(models.CHAT_MODELS, "echo",
                        lambda value, s: seen.append((value, s.llm.model)) or "echo-model")
    assert models.build_chat_model(Settings(llm={"model": "echo:small"})) == "echo-model"
    assert seen == [("small", "echo:small")]


def test_openai_key_is_read_by_settings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    s = Settings(llm={"model": "openai:m", "base_url": "http://127.0.0.1:9/v1"})
    assert s.llm_api_key() == "sk-env" and s.embedder_api_key() == "sk-env"
    chat = models.build_chat_model(s)
    assert chat.openai_api_key.get_secret_value() == "sk-env"
    own = Settings(llm={"model": "openai:m", "api_key": "sk-own"})
    assert own.llm_api_key() == "sk-own"
    monkeypatch.delenv("OPENAI_API_KEY")
    without = Settings(llm={"model": "openai:m", "base_url": "http://127.0.0.1:9/v1"})
    assert without.llm_api_key() is None
    assert s.fingerprint() == without.fingerprint()  # a key never changes the answers' hash
