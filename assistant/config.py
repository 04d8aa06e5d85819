"""One Settings object for the whole of ClinCite.

Built at the edges (CLI, UI, eval, tests) and passed down explicitly; nothing reads the
environment anywhere else. Every field can be set from the environment with the prefix
``CLINCITE_`` and ``__`` between a section and its field, e.g. ``CLINCITE_DATA_DIR=/srv/clincite``
or ``CLINCITE_RETRIEVAL__K=8``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .errors import ConfigError

ENV_PREFIX = "CLINCITE_"

DEFAULT_HOME = Path.home() / ".clincite"


class ChunkingSettings(BaseModel):
    """How documents are cut into passages. Part of the index name: a change builds a new index."""

    # Size in "weighted characters": a CJK character counts 2, anything else 1, so one number
    # gives passages of similar information content in Chinese (~350 characters) and English.
    size: int = Field(700, ge=50, le=20000)
    overlap: int = Field(150, ge=0, le=5000)


class EmbedderSettings(BaseModel):
    """``st:default`` (the fetched EmbeddingGemma), ``st:/path/to/sentence-transformers/folder``,
    ``openai:<model>`` (an OpenAI-compatible /embeddings endpoint), or ``fake`` (tests only)."""

    model: str = "st:default"
    # 8 was fastest on the 2-core CPU (16.0 s for the sample corpus vs 18.5 s at 16, 25.0 s at
    # 32): less padding per batch; texts are sorted by length within each call
    batch_size: int = Field(8, ge=1, le=1024)
    # "auto" measures float32 against bfloat16 on this machine on first load and keeps the faster
    # (ties to float32), cached per CPU and library versions (assistant/calibration.py): CPU
    # flags cannot tell which is faster. Not part of the index name: the vectors agree.
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # The runtime of the transformer: sentence-transformers on torch, or an export of it run by
    # ONNX Runtime / OpenVINO, float32 or int8 (assistant/embed_backends.py). Part of the index
    # name when not torch. Measured per machine by `clincite bench ingest`.
    backend: Literal["torch", "onnx", "onnx-int8", "openvino", "openvino-int8"] = "torch"
    base_url: str | None = None
    api_key: str | None = None


class LLMSettings(BaseModel):
    """``llamacpp:default`` (the fetched Qwen2.5 GGUF), ``llamacpp:/path/model.gguf``,
    ``openai:<model>`` (any OpenAI-compatible chat endpoint: vLLM, Ollama, llama.cpp server,
    hosted APIs), or ``fake`` (a scripted model, tests only)."""

    model: str = "llamacpp:default"
    base_url: str | None = None  # for openai:, e.g. http://127.0.0.1:11434/v1
    api_key: str | None = None  # for openai:; falls back to OPENAI_API_KEY
    temperature: float = 0.0
    max_tokens: int = Field(200, ge=16, le=8192)  # answers are one to three sentences
    context_tokens: int = Field(4096, ge=512, le=131072)
    threads: int | None = None  # llama.cpp threads; None = all cores
    # llama.cpp prompt-lookup decoding: draft tokens guessed from the prompt (0 = off);
    # measured in bench/results/llm_choice.md
    prompt_lookup: int = Field(0, ge=0, le=32)
    timeout_s: float = 120.0


class RetrievalSettings(BaseModel):
    # passages retrieved for an answer: the model reads their best sentences, the checker and
    # the quotes use them whole; chosen with `clincite bench evidence` (evidence_sweep.md)
    k: int = Field(3, ge=1, le=50)
    fetch_k: int = Field(30, ge=1, le=500)  # candidates from each retriever before fusion
    # "dense": embeddings only; "keyword": BM25 only; "rrf": plain reciprocal-rank fusion of
    # dense and BM25; "guarded": cosine plus a small BM25 bonus only where BM25 can help
    # (see retrieval.py). Chosen by eval: bench/results/fusion_sweep.md.
    fusion: Literal["dense", "keyword", "rrf", "guarded"] = "guarded"
    rrf_k: int = 60
    keyword_weight: float = 0.05  # bonus for BM25 over passages in the question's language
    anchor_weight: float = 0.05  # bonus for BM25 over exact terms (ids, numbers, acronyms)
    # Below this cosine similarity of the best passage the question is treated as out of scope.
    min_similarity: float = 0.30
    # ... when that passage is in the other language, where cosines run lower (the lower of the
    # two applies). Dev: the lowest answerable cross-lingual question's best passage was 0.244
    # (en-21), the out-of-scope must-decline questions' at most 0.153 (-0.012 across).
    min_similarity_across: float = Field(0.20, ge=-1.0, le=1.0)
    translate_query: bool = False  # also search with an LLM translation of the question


def prompt_names() -> list[str]:
    """The versioned prompt files shipped in ``prompts/`` (by name, without ``.yaml``)."""
    return sorted(f.name[: -len(".yaml")] for f in resources.files("prompts").iterdir()
                  if f.name.endswith(".yaml"))


class AnswerSettings(BaseModel):
    prompt: str = "answer_v2"
    # Weighted characters (a CJK character counts 2) of each passage the LLM reads: the best
    # window of sentences for the question (assistant/excerpts.py); 0 = whole passages.
    # Prompt processing dominates answer time on a CPU; see bench/results/performance.md.
    passage_chars: int = Field(360, ge=0, le=20000)
    # > 0: instead of a window per passage, the best sentences across all passages within this
    # many weighted characters in all (a sentence longer than passage_chars cut to its best
    # clauses); tuned with `clincite bench evidence` on the dev split
    evidence_chars: int = Field(700, ge=0, le=50000)
    # choose the evidence by meaning too: cos(question, sentence) with the embedder (sentence
    # vectors embedded at ingest and kept on disk), on top of words and the lexicon
    semantic_excerpts: bool = True
    # embed every passage's sentences at ingest (kept on disk) so no answer waits for them;
    # false: each is embedded the first time its passage is retrieved, then kept. Measured on
    # the sample corpus (105 passages, ~1,000 sentences): ingest 16 s -> ~100 s on 2 cores,
    # against 1-3 s more for a question whose passages were never seen
    embed_sentences_at_ingest: bool = True
    # a quote-backed answer whose question names no measure and subject needs this cosine
    # between question and sentence (or enough shared words); tuned on the dev split
    min_quote_similarity: float = Field(0.6, ge=0.0, le=1.0)
    # the same for a sentence in the other language than the question's (cross-lingual
    # cosines run lower); tuned on the dev split
    min_quote_similarity_across: float = Field(0.5, ge=0.0, le=1.0)
    # passages the checker and the quote fallback read: the model reads the first k, the
    # next ones (retrieved in the same search) may still supply a verbatim quote; 0 = only k
    quote_passages: int = Field(6, ge=0, le=50)
    # a second, wider ring of passages from the same search, read for a quote only when the
    # first quote_passages give none (0 = no second ring): the answer sentence that ranks 7th
    # to 10th by cosine (an English question on a Chinese article, a trial record's tail
    # chunk) without changing a quote the first ring gives; tuned on the dev split
    quote_passages_more: int = Field(10, ge=0, le=50)
    # where none of the k passages the model reads holds a sentence that the question's measure
    # and every subject bind, the best such sentence of the passages ranked below them (up to
    # quote_passages_more) is added as one more short passage: what the model reads holds the
    # evidence sentence (issue 11), for one sentence's prompt tokens; tuned on the dev split
    lead_sentence: bool = True
    # a question for one number whose top passages hold a sentence that answers it (bound by
    # the measure and every subject where a measure is asked): that sentence is shown verbatim
    # and cited (the quote a failed draft would fall back to) before the model has read its
    # prompt, and the model's checked sentences that answer by themselves follow it. The first
    # checked text then waits for retrieval, not for the ~400 prompt tokens (4 s on the 1.5B
    # on 2 Zen 4 cores); false: the model's first sentence
    quote_first: bool = True
    condense_prompt: str = "condense_v1"
    # share of a sentence's content words (zh: character bigrams) that must occur in a passage
    min_overlap: float = Field(0.5, ge=0.0, le=1.0)
    # Across languages word overlap cannot work, so support is semantic: the cosine between an
    # answer sentence and a passage. Measured with EmbeddingGemma, same-topic passages all
    # score 0.43-0.55, so similarity alone barely tells the right passage; its numbers do.
    min_semantic: float = Field(0.55, ge=0.0, le=1.0)  # sentence without numbers
    unsupported: Literal["drop", "mark"] = "drop"

    @field_validator("prompt", "condense_prompt")
    @classmethod
    def _prompt_exists(cls, name: str) -> str:
        # checked here, so a misspelt prompt is a one-line error before anything loads
        names = prompt_names()
        if name not in names:
            raise ValueError(f"no prompt file prompts/{name}.yaml; use one of {', '.join(names)}")
        return name


class StoreSettings(BaseModel):
    """Where the index lives. ``backend``, the vectors: ``chroma`` (embedded, in the data
    folder), ``chroma-server`` (a Chroma server at ``CLINCITE_CHROMA_HOST``/``_PORT``; setting
    the host alone also chooses it) or ``memory`` (numpy, in this process only: tests and
    throwaway indexes); backends in ``ingest/vectors.py`` ``VECTOR_INDEXES``. ``records``, the
    document and chunk records with the keyword index: ``sqlite`` (SQLite + FTS5, in the data
    folder); backends in ``ingest/records.py`` ``RECORD_STORES``. Each is checked against its
    registry when the index opens (the settings import no stage)."""

    backend: str = "chroma"
    records: str = "sqlite"


class ServerSettings(BaseModel):
    """The HTTP API (``clincite serve`` / ``clincite api``) and who may use it."""

    # Bearer keys for /v1: CLINCITE_SERVER__API_KEYS=key1,key2 (or a JSON list). Required when
    # the server listens beyond loopback; never logged or shown (SecretStr).
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Ask for a key on 127.0.0.1 too: behind a reverse proxy on the same machine every request
    # arrives from loopback, so the listening address says nothing about who is asking.
    require_api_key: bool = False
    # Largest JSON request body; uploads may be CLINCITE_MAX_FILE_MB plus the form's overhead.
    max_request_kb: int = Field(1024, ge=16, le=1024 * 1024)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class Settings(BaseSettings):
    """All of ClinCite's configuration. ``Settings()`` reads ``CLINCITE_*`` environment
    variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = DEFAULT_HOME / "data"
    models_dir: Path = DEFAULT_HOME / "models"
    max_file_mb: float = Field(50.0, gt=0)
    # A Chroma server instead of the embedded store (see README: server mode).
    chroma_host: str | None = None
    chroma_port: int = 8000
    # A login for the chat app (CLINCITE_UI_USERNAME / CLINCITE_UI_PASSWORD); both or none.
    ui_username: str | None = None
    ui_password: SecretStr | None = None
    # The key for openai: models when CLINCITE_LLM__API_KEY / CLINCITE_EMBEDDER__API_KEY are
    # not set: OpenAI's own variable, read here so that nothing else reads the environment.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"))

    store: StoreSettings = StoreSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    embedder: EmbedderSettings = EmbedderSettings()
    llm: LLMSettings = LLMSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    server: ServerSettings = ServerSettings()

    def __init__(self, **values: Any) -> None:
        """Read the environment; a wrong value is one ``ConfigError`` line naming its
        variable, never a pydantic traceback."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigError(describe_error(exc)) from None

    def vector_backend(self) -> str:
        """The vector index in use: ``store.backend``, where a Chroma host set on its own
        (``CLINCITE_CHROMA_HOST``, the older way to ask for a server) means ``chroma-server``."""
        if self.store.backend == "chroma" and self.chroma_host:
            return "chroma-server"
        return self.store.backend

    def llm_api_key(self) -> str | None:
        key = self.llm.api_key or self.openai_api_key
        return key.get_secret_value() if isinstance(key, SecretStr) else key

    def embedder_api_key(self) -> str | None:
        key = self.embedder.api_key or self.openai_api_key
        return key.get_secret_value() if isinstance(key, SecretStr) else key

    def fingerprint(self, sections: Collection[str] | None = None) -> str:
        """A short hash of everything that changes answers, recorded with every Answer; with
        ``sections``, of those sections only (the eval baseline's answers depend on the
        embedder and the LLM alone)."""
        keep = self.model_dump(
            mode="json",
            include=set(sections) if sections is not None else None,
            exclude={"data_dir", "models_dir", "chroma_host", "chroma_port", "server", "store",
                     "ui_username", "ui_password", "openai_api_key"}
        )
        for section in ("embedder", "llm"):
            if section in keep:
                keep[section].pop("api_key", None)
        blob = json.dumps(keep, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def env_name(loc: tuple[int | str, ...]) -> str:
    """The environment variable of a setting: ``("retrieval", "fusion")`` ->
    ``CLINCITE_RETRIEVAL__FUSION``."""
    if loc and loc[0] == "openai_api_key":
        return "OPENAI_API_KEY"
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def describe_error(exc: ValidationError) -> str:
    """One line for the first mistake in ``exc`` (and how many more), naming the variable."""
    errors = exc.errors()
    first = errors[0]
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f"={value!r}"
    message = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{env_name(tuple(first['loc']))}{shown}: {message}{more}"
