"""The embedder and the chat model, each behind a small interface chosen by a setting.

Nothing loads at import time; heavy libraries are imported inside the factories. Loaded models
are cached per process (``load_embedder`` / ``load_chat_model``), so the app, the API and eval
never load a model twice.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from . import calibration, llm_choice
from .config import Settings
from .errors import ConfigError, EndpointError, ModelNotFoundError
from .recipes import EMBEDDER, LLM, LLM_15B, ModelRecipe, is_ready, target_path

# ``llamacpp:<alias>`` names a fetched model; anything else after ``llamacpp:`` is a path.
LLM_ALIASES: dict[str, ModelRecipe] = {"0.5b": LLM, "1.5b": LLM_15B}


class Embedder(ABC):
    """Turns passages and questions into unit-length vectors."""

    name: str = "embedder"

    @abstractmethod
    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        """``kind`` is "query", "document" (text already in the titled-document form) or
        "document_untitled" (raw text: the model's own default document prompt is used).
        Returns a float32 array (len(texts), dim) of unit vectors."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts, kind="document")

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text], kind="query")[0]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


def cpu_supports_bf16() -> bool:
    """Native bf16 arithmetic (AVX512-BF16 or AMX). Reported by the benchmarks only: whether
    bfloat16 is faster is measured (assistant/calibration.py), since the flag cannot tell."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def st_embedder_name(path: Path, backend: str = "torch") -> str:
    """``st:<folder>``, plus the backend when it is not torch: another runtime's vectors are not
    torch's, so they get their own index. The dtype is left out: float32 and bfloat16 vectors
    agree (cosine >= 0.999), so either may fill or query the same index."""
    return f"st:{path.name}" if backend == "torch" else f"st:{path.name}+{backend}"


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers folder (default: the fetched EmbeddingGemma-300M).

    ``dtype="auto"`` measures float32 against bfloat16 on this machine on first load and caches
    the decision in ``calibration_cache`` (assistant/calibration.py). ``backend`` other than
    "torch" runs the transformer on ONNX Runtime or OpenVINO, exported once beside the model
    (assistant/embed_backends.py); those run in float32 (int8 for the ``-int8`` ones)."""

    def __init__(self, path: Path, *, batch_size: int = 16, dtype: str = "auto",
                 backend: str = "torch", calibration_cache: Path | None = None) -> None:
        from . import embed_backends

        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelNotFoundError(
                f"no sentence-transformers model at {path}: run `clincite models fetch` or set "
                "CLINCITE_EMBEDDER__MODEL=st:/path/to/model"
            )
        if backend not in embed_backends.BACKENDS:
            raise ConfigError(f"unknown embedder backend '{backend}': use one of "
                              f"{', '.join(embed_backends.BACKENDS)}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        def load(dt: str) -> Any:
            kwargs: dict[str, Any] = {"torch_dtype": torch.bfloat16} if dt == "bfloat16" else {}
            return SentenceTransformer(str(path), device="cpu", model_kwargs=kwargs,
                                       local_files_only=True)

        self.batch_size = batch_size
        self.backend = backend
        self.calibration: dict[str, Any] | None = None  # how "auto" chose, for the benchmarks
        self.export: dict[str, Any] | None = None  # the backend's verification record
        if backend != "torch":
            self.model = load("float32")
            self.export = embed_backends.attach(embed_backends.SPECS[backend], path, self.model)
            self.dtype = "int8" if embed_backends.SPECS[backend].int8 else "float32"
        elif dtype == "auto":
            cache = calibration_cache or path.parent / calibration.CACHE_NAME
            self.model, self.dtype, self.calibration = calibration.resolve_dtype(
                load, lambda model, texts: self._documents(model, texts), cache,
                calibration.machine_key(path.name))
        else:
            self.model, self.dtype = load(dtype), dtype
        self.name = st_embedder_name(path, backend)  # keep in step with embedder_name()
        self._lock = threading.Lock()  # torch CPU inference is not re-entrant-safe per model

    def _documents(self, model: Any, texts: Sequence[str]) -> np.ndarray:
        return model.encode_document(list(texts), prompt="", batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True)

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            if kind == "query":
                out = self.model.encode_query(list(texts), batch_size=self.batch_size,
                                              convert_to_numpy=True, normalize_embeddings=True)
            elif kind == "document_untitled":
                out = self.model.encode_document(list(texts), batch_size=self.batch_size,
                                                 convert_to_numpy=True,
                                                 normalize_embeddings=True)
            else:
                # Texts already carry EmbeddingGemma's "title: ... | text: ..." document form
                # (Chunk.embedding_text), so the model's default "title: none" prompt is
                # replaced, not stacked.
                out = self._documents(self.model, texts)
        return _normalise(np.asarray(out, dtype=np.float32))


class OpenAIEmbedder(Embedder):
    """Any OpenAI-compatible ``/embeddings`` endpoint (vLLM, Ollama, TEI, hosted APIs)."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None,
                 batch_size: int = 64, timeout: float = 60.0) -> None:
        from openai import OpenAI

        key = api_key or "not-needed"  # a local server needs none; the client wants a string
        self.client = OpenAI(base_url=base_url, api_key=key, timeout=timeout, max_retries=1)
        self.model = model
        self.batch_size = batch_size
        self.base_url = base_url or "the OpenAI API"
        self.name = f"openai:{model}"

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        import openai

        vectors: list[list[float]] = []
        try:
            for i in range(0, len(texts), self.batch_size):
                batch = list(texts[i : i + self.batch_size])
                response = self.client.embeddings.create(model=self.model, input=batch)
                vectors.extend(item.embedding for item in response.data)
        except openai.OpenAIError as exc:
            raise EndpointError(
                f"embeddings endpoint {self.base_url} failed ({type(exc).__name__}); check "
                "CLINCITE_EMBEDDER__BASE_URL and the server"
            ) from exc
        return _normalise(np.array(vectors, dtype=np.float32))


class HashingEmbedder(Embedder):
    """Deterministic bag-of-words vectors. Stands in for a real embedder in tests and demos:
    texts that share words are close, and nothing is downloaded or loaded."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"fake-hashing-{dim}"

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        from ingest.keywords import support_units

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for unit in support_units(text.replace("title:", " ").replace("| text:", " ")):
                h = int(hashlib.md5(unit.encode()).hexdigest()[:8], 16)
                out[row, h % self.dim] += 1.0 if (h >> 20) & 1 else -1.0
        return _normalise(out)


_cache: dict[tuple, Any] = {}
_cache_lock = threading.Lock()


def _model_path(spec: str, settings: Settings, default: Any) -> Path:
    """``prefix:default`` (or empty) is the fetched model of that recipe; else a local path."""
    value = spec.split(":", 1)[1] if ":" in spec else spec
    if value in ("", "default"):
        return target_path(default, settings.models_dir)
    return Path(value).expanduser()


def resolve_embedder_path(spec: str, settings: Settings) -> Path:
    return _model_path(spec, settings, EMBEDDER)


# -- the embedder registry: a new embedder is one class and one line in EMBEDDERS ------------


@dataclass(frozen=True)
class EmbedderKind:
    """How to name and build one kind of embedder. ``value`` is what follows the prefix in
    ``CLINCITE_EMBEDDER__MODEL`` (``st:<value>``); ``name`` must not load anything (index names
    depend on it), ``build`` loads the model."""

    name: Callable[[str, Settings], str]
    build: Callable[[str, Settings], Embedder]


def _st_build(value: str, settings: Settings) -> Embedder:
    cfg = settings.embedder
    return SentenceTransformerEmbedder(
        _model_path(value, settings, EMBEDDER), batch_size=cfg.batch_size, dtype=cfg.dtype,
        backend=cfg.backend, calibration_cache=settings.models_dir / calibration.CACHE_NAME)


def _openai_build(value: str, settings: Settings) -> Embedder:
    cfg = settings.embedder
    return OpenAIEmbedder(value, cfg.base_url, settings.embedder_api_key(),
                          batch_size=max(cfg.batch_size, 32))


EMBEDDERS: dict[str, EmbedderKind] = {
    "st": EmbedderKind(
        name=lambda value, s: st_embedder_name(_model_path(value, s, EMBEDDER),
                                               s.embedder.backend),
        build=_st_build),
    "openai": EmbedderKind(name=lambda value, s: f"openai:{value}", build=_openai_build),
    "fake": EmbedderKind(name=lambda value, s: HashingEmbedder().name,
                         build=lambda value, s: HashingEmbedder()),
}


def _split_spec(spec: str, kinds: Mapping[str, object], variable: str,
                examples: str) -> tuple[str, str]:
    """``prefix:value`` -> (prefix, value), the prefix checked against a registry."""
    prefix, _, value = spec.partition(":")
    if prefix not in kinds:
        raise ConfigError(f"{variable}={spec!r} is not a known model: use {examples} "
                          f"(kinds: {', '.join(kinds)})")
    return prefix, value


def _embedder_spec(settings: Settings) -> tuple[EmbedderKind, str]:
    spec = settings.embedder.model
    spec = "st:default" if spec == "default" else spec
    prefix, value = _split_spec(spec, EMBEDDERS, "CLINCITE_EMBEDDER__MODEL",
                                "st:default, st:/path/to/model, openai:<model> or fake")
    return EMBEDDERS[prefix], value


def embedder_name(settings: Settings) -> str:
    """The name an embedder will have, without loading it (index names depend on it)."""
    kind, value = _embedder_spec(settings)
    return kind.name(value, settings)


class LazyEmbedder(Embedder):
    """Loads the real embedder on first use, so commands that embed nothing (re-ingest of an
    unchanged corpus, listing documents) never pay for loading a model."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.name = embedder_name(settings)
        self._inner: Embedder | None = None

    @property
    def inner(self) -> Embedder:
        if self._inner is None:
            self._inner = load_embedder(self._settings)
        return self._inner

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        return self.inner.embed(texts, kind=kind)


def build_embedder(settings: Settings) -> Embedder:
    """Make the embedder named by ``settings.embedder.model`` (no caching)."""
    kind, value = _embedder_spec(settings)
    return kind.build(value, settings)


def load_embedder(settings: Settings) -> Embedder:
    """The process-wide embedder for these settings (loaded once)."""
    key = ("embedder", settings.embedder.model, str(settings.models_dir),
           settings.embedder.dtype, settings.embedder.backend, settings.embedder.base_url)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = build_embedder(settings)
        return _cache[key]


# ---------------------------------------------------------------------------------------------
# Chat models (LangChain BaseChatModel, so they compose into runnables)


def _llama_chat_class():
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    class LlamaCppChat(BaseChatModel):
        """The embedded GGUF model through llama-cpp-python. One generation at a time."""

        model_path: str
        temperature: float = 0.0
        max_tokens: int = 300
        n_ctx: int = 4096
        n_threads: int | None = None
        prompt_lookup: int = 0  # draft tokens guessed from the prompt (0 = off)
        client: Any = None
        lock: Any = None

        def model_post_init(self, __context: Any) -> None:
            import atexit

            from llama_cpp import Llama

            # All cores for generation too (llama-cpp-python's default is half of them: 40 vs
            # 54 tokens/s here), flash attention (~8% faster prompt processing on this CPU).
            # The prompt's unchanged prefix (the system prompt) is reused from the KV cache.
            threads = self.n_threads or os.cpu_count() or 1
            draft = None
            if self.prompt_lookup:
                # answers copy the passages: guess the next tokens from the prompt and verify
                # them in one batch (prompt-lookup decoding)
                from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

                draft = LlamaPromptLookupDecoding(num_pred_tokens=self.prompt_lookup)
            # a draft model needs logits for every token: llama-cpp-python 0.3.36 turns that
            # on inside but sizes its score buffer by the argument, and overflows it on the
            # first prompt longer than a batch ("could not broadcast input array") unless the
            # argument says so too
            self.client = Llama(model_path=self.model_path, n_ctx=self.n_ctx,
                                n_threads=threads, n_threads_batch=threads, flash_attn=True,
                                verbose=False, seed=0, draft_model=draft,
                                logits_all=draft is not None)
            self.lock = threading.Lock()
            # free the model before interpreter teardown (llama-cpp's __del__ fails late)
            atexit.register(self.client.close)

        @property
        def _llm_type(self) -> str:
            return "llama-cpp"

        @staticmethod
        def _to_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
            roles = {"human": "user", "ai": "assistant", "system": "system"}
            return [{"role": roles.get(m.type, "user"), "content": str(m.content)}
                    for m in messages]

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                      run_manager: CallbackManagerForLLMRun | None = None,
                      **kwargs: Any) -> ChatResult:
            text = "".join(str(c.message.content) for c in
                           self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

        def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                    run_manager: CallbackManagerForLLMRun | None = None,
                    **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            with self.lock:
                stream = self.client.create_chat_completion(
                    messages=self._to_dicts(messages), temperature=self.temperature,
                    max_tokens=kwargs.get("max_tokens", self.max_tokens), stop=stop,
                    stream=True, seed=0,
                )
                for part in stream:
                    delta = part["choices"][0].get("delta", {}).get("content") or ""
                    if not delta:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk

    return LlamaCppChat


_default_llm: dict[tuple, tuple[str, dict[str, Any]]] = {}
_timed_chats: dict[tuple, Any] = {}  # the 1.5B loaded to time it, kept when it is chosen
# its own lock: load_chat_model holds _cache_lock while building the chat model, which may
# resolve the default here (one process measures once; others wait for its answer)
_default_lock = threading.RLock()


def _llm_key(settings: Settings) -> tuple:
    cfg = settings.llm
    return (str(settings.models_dir), cfg.threads, cfg.context_tokens, cfg.max_tokens,
            cfg.temperature, cfg.prompt_lookup)


def default_llm(settings: Settings) -> tuple[str, dict[str, Any]]:
    """The alias ``llamacpp:default`` stands for on this machine ("0.5b" or "1.5b") and how it
    was decided (assistant/llm_choice.py: measured once per machine, then cached)."""
    key = _llm_key(settings)
    with _default_lock:
        if key not in _default_llm:
            _default_llm[key] = _measure_default(settings, key)
        return _default_llm[key]


def _measure_default(settings: Settings, key: tuple) -> tuple[str, dict[str, Any]]:
    cfg = settings.llm

    def measure() -> float:
        from prompts import load_prompt

        chat = _llamacpp_chat(llm_choice.LARGE, settings)
        _timed_chats[key] = chat
        return llm_choice.time_answer(chat, load_prompt(settings.answer.prompt).system)

    choice = llm_choice.resolve_default(
        measure, settings.models_dir / llm_choice.CACHE_NAME, llm_choice.choice_key(cfg.threads),
        large_ready=is_ready(LLM_15B, settings.models_dir) and is_ready(LLM, settings.models_dir))
    if choice[0] != llm_choice.LARGE:
        _timed_chats.pop(key, None)  # not kept: free its memory
    return choice


def is_default_llm(spec: str) -> bool:
    """``spec`` names the measured default (``llamacpp:default``), not a model outright."""
    prefix, _, value = spec.partition(":") if ":" in spec else ("llamacpp", ":", spec)
    return prefix == "llamacpp" and value in ("", "default")


def resolve_llm_path(spec: str, settings: Settings) -> Path:
    value = spec.split(":", 1)[1] if ":" in spec else spec
    if is_default_llm(spec):
        value = default_llm(settings)[0]
    if value in LLM_ALIASES:
        return target_path(LLM_ALIASES[value], settings.models_dir)
    return _model_path(spec, settings, LLM)


def _llamacpp_chat(value: str, settings: Settings) -> Any:
    cfg = settings.llm
    if is_default_llm(f"llamacpp:{value}"):
        value = default_llm(settings)[0]
        timed = _timed_chats.pop(_llm_key(settings), None)
        if timed is not None and value == llm_choice.LARGE:
            return timed  # the copy loaded to time it
    path = resolve_llm_path(f"llamacpp:{value}", settings)
    if not path.is_file():
        raise ModelNotFoundError(
            f"no GGUF model at {path}: run `clincite models fetch`, or set "
            "CLINCITE_LLM__MODEL=llamacpp:/path/model.gguf or openai:<model>"
        )
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        raise ModelNotFoundError(
            "llama-cpp-python is not installed: run scripts/setup.sh (or `pip install "
            "llama-cpp-python`), or use an endpoint with CLINCITE_LLM__MODEL=openai:<model>"
        ) from exc
    return _llama_chat_class()(model_path=str(path), temperature=cfg.temperature,
                               max_tokens=cfg.max_tokens, n_ctx=cfg.context_tokens,
                               n_threads=cfg.threads, prompt_lookup=cfg.prompt_lookup)


def _openai_chat(value: str, settings: Settings) -> Any:
    from langchain_openai import ChatOpenAI

    cfg = settings.llm
    return ChatOpenAI(model=value, base_url=cfg.base_url,
                      api_key=settings.llm_api_key() or "not-needed",
                      temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                      timeout=cfg.timeout_s, max_retries=1)


ChatFactory = Callable[[str, Settings], Any]

# -- the chat-model registry: a new provider is one factory and one line here ----------------
# ``prefix: factory(value, settings)`` for CLINCITE_LLM__MODEL=prefix:value. A "module:attr"
# string is imported on first use: the test fakes (assistant/testing.py) are available to
# `CLINCITE_LLM__MODEL=fake` processes without this module importing them.
CHAT_MODELS: dict[str, ChatFactory | str] = {
    "llamacpp": _llamacpp_chat,
    "openai": _openai_chat,
    "fake": "assistant.testing:scripted_chat_model",
}


def _factory(entry: ChatFactory | str) -> ChatFactory:
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        return cast(ChatFactory, getattr(importlib.import_module(module), attr))
    return entry


def build_chat_model(settings: Settings) -> Any:
    """Make the chat model named by ``settings.llm.model`` (no caching)."""
    spec = settings.llm.model
    if spec.endswith(".gguf") and not spec.startswith("llamacpp:"):
        spec = f"llamacpp:{spec}"
    prefix, value = _split_spec(spec, CHAT_MODELS, "CLINCITE_LLM__MODEL",
                                "llamacpp:default, llamacpp:0.5b|1.5b, "
                                "llamacpp:/path/model.gguf, openai:<model> or fake")
    return _factory(CHAT_MODELS[prefix])(value, settings)


def load_chat_model(settings: Settings) -> Any:
    """The process-wide chat model for these settings (loaded once)."""
    cfg = settings.llm
    key = ("llm", cfg.model, str(settings.models_dir), cfg.base_url, cfg.temperature,
           cfg.max_tokens, cfg.context_tokens, cfg.prompt_lookup)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = build_chat_model(settings)
        return _cache[key]
