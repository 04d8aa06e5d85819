"""ClinCite over HTTP: an OpenAI-compatible API plus documents, for other tools to use.

``create_app(assistant, settings, host=...)`` builds a FastAPI app with the API mounted at
``/v1``; ``clincite serve`` mounts the Gradio app beside it on the same port, ``clincite api``
serves it alone.

- ``GET /v1/models``: ``clincite`` (the checked-answer assistant) and the LLM underneath it.
  Either name is answered the same way, through ClinCite: the LLM is never exposed raw.
- ``POST /v1/chat/completions`` (``stream`` true or false): the last message is the question,
  the earlier user/assistant turns are the conversation. The message content is the checked
  answer with its ``[n]`` markers and a "Sources:" list; the extra field ``clincite`` carries
  the structured citations (with page numbers for PDFs), the abstention flag and timings.
  Only checked text is ever sent: never the model's draft, never the checker's notes on
  dropped sentences.
- ``GET /v1/documents``, ``POST /v1/documents`` (multipart field ``file``, the CLI's checks and
  size limit), ``DELETE /v1/documents/{doc_id}``.

Every user mistake comes back as an OpenAI-style error object
``{"error": {"message", "type", "param", "code"}}`` with a one-line message and the right HTTP
status; never a traceback. Bearer API keys come from ``settings.server.api_keys``; they are
required whenever the server listens beyond loopback (see ``key_required``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.vectors import as_filters

from .api import Assistant
from .config import Settings
from .errors import (
    BadQuestionError,
    ClinCiteError,
    ConfigError,
    DocumentNotFoundError,
    EmptyIndexError,
    EndpointError,
    IngestError,
    ModelFetchError,
    ModelNotFoundError,
    StoreBusyError,
)
from .types import Answer, StreamEvent

log = logging.getLogger("clincite.api")

MODEL_ID = "clincite"
SOURCES_HEADING = "Sources:"
QUOTE_CHARS = 400  # a quote in the Sources list is cut here (the extra field has it whole)
SHUTDOWN_GRACE_S = 3  # open streams are cut this long after Ctrl+C / SIGTERM
DRAIN_LIMIT = 64 * 1024 * 1024  # an oversized body is read (and dropped) up to this, then 413

# -- errors -----------------------------------------------------------------------------------


class ApiError(ClinCiteError):
    """A mistake in an HTTP request, sent to the client in OpenAI's shape with its status."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = (status, message, type,
                                                                       param, code)

    def body(self) -> dict[str, Any]:
        return {"error": {"message": _one_line(self.message), "type": self.type,
                          "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


# (status, type, code) of ClinCite's own errors; the first match along the class's MRO wins
ERROR_STATUS: dict[type[ClinCiteError], tuple[int, str, str]] = {
    BadQuestionError: (400, "invalid_request_error", "bad_question"),
    EmptyIndexError: (409, "invalid_request_error", "empty_index"),
    DocumentNotFoundError: (404, "invalid_request_error", "document_not_found"),
    IngestError: (400, "invalid_request_error", "ingest_failed"),
    StoreBusyError: (503, "server_error", "store_busy"),
    EndpointError: (502, "server_error", "llm_endpoint_error"),
    ModelNotFoundError: (503, "server_error", "model_not_found"),
    ModelFetchError: (503, "server_error", "model_not_found"),
    ConfigError: (500, "server_error", "config_error"),
}


def api_error(exc: ClinCiteError) -> ApiError:
    for cls in type(exc).__mro__:
        if cls in ERROR_STATUS:
            status, kind, code = ERROR_STATUS[cls]
            return ApiError(status, str(exc), type=kind, code=code)
    return ApiError(400, str(exc), code="clincite_error")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# -- authentication ---------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` (the address the server listens on) is reachable from this machine
    only. Names other than ``localhost`` and wildcard addresses count as reachable from
    outside."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_required(host: str, keys: Iterable[Any], always: bool = False) -> bool:
    """Whether /v1 requests must carry an API key: always beyond loopback; on loopback only
    when keys are configured (or ``always``, e.g. behind a reverse proxy on this machine)."""
    return always or bool(list(keys)) or not is_loopback(host)


def check_key(authorization: str | None, keys: list[str], host: str) -> None:
    """Raise a 401 ApiError unless ``authorization`` is ``Bearer <one of keys>``."""
    if not keys:
        raise ApiError(401, f"this server listens on {host}, beyond loopback, and has no API "
                            "keys: set CLINCITE_SERVER__API_KEYS where it runs and send one "
                            "as 'Authorization: Bearer <key>'", code="no_api_keys_configured")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>' (keys are "
                            "set on the server with CLINCITE_SERVER__API_KEYS)",
                       code="missing_api_key")
    presented = given.strip().encode()
    # compare with every key, in constant time each, so timing tells nothing about a match
    matches = [hmac.compare_digest(presented, k.encode()) for k in keys]
    if not any(matches):
        raise ApiError(401, "invalid API key: use one of the keys in the server's "
                            "CLINCITE_SERVER__API_KEYS", code="invalid_api_key")


# -- request models ---------------------------------------------------------------------------


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text; a non-text part (an image, audio) is refused."""
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        texts = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ApiError(400, f"unsupported content part type '{part.get('type')}': "
                                    "ClinCite answers text questions only",
                               param="messages", code="unsupported_content")
            texts.append(part["text"])
        return "\n".join(texts)


class ClinCiteOptions(BaseModel):
    """ClinCite's own request options (OpenAI SDKs: ``extra_body={"clincite": {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    filters: dict[Literal["doc_id", "language", "kind"], list[StrictStr]] | None = None
    k: int | None = Field(None, ge=1, le=50, description="passages given to the LLM")


class StreamOptions(BaseModel):
    include_usage: StrictBool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion request. Sampling options (temperature, max_tokens, ...) are
    accepted and ignored: an answer is what survives checking, not a sample."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr
    messages: list[ChatMessage]
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    n: int = 1
    clincite: ClinCiteOptions | None = None


# -- answers as OpenAI messages ---------------------------------------------------------------


def sources_text(answer: Answer) -> str:
    """The "Sources:" list appended to the message: marker, title, document, page, quote."""
    if answer.abstained or not answer.citations:
        return ""
    lines = [SOURCES_HEADING]
    for c in answer.citations:
        where = c.doc_id if c.page is None else f"{c.doc_id}, p. {c.page}"
        quote = _one_line(c.quote)
        if len(quote) > QUOTE_CHARS:
            quote = quote[:QUOTE_CHARS].rstrip() + "…"
        lines.append(f'[{c.n}] {_one_line(c.title)} ({where}): "{quote}"')
    return "\n\n" + "\n".join(lines)


def message_content(answer: Answer) -> str:
    return answer.text + sources_text(answer)


def strip_sources(content: str) -> str:
    """An earlier assistant turn without its Sources list (the history the model reads)."""
    return content.split("\n\n" + SOURCES_HEADING + "\n", 1)[0]


def clincite_extra(answer: Answer) -> dict[str, Any]:
    """The structured part of an answer (``draft`` and ``checks`` hold unchecked text: never
    sent)."""
    return {
        "text": answer.text,
        "language": answer.language,
        "abstained": answer.abstained,
        "abstain_reason": answer.abstain_reason,
        "standalone_question": answer.standalone_question,
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "retrieved": [{"chunk_id": r.chunk_id, "doc_id": r.doc_id, "title": r.title,
                       "start": r.start, "end": r.end, "page": r.page,
                       "score": round(r.score, 4)} for r in answer.retrieved],
        "timings": answer.timings,
        "settings_hash": answer.settings_hash,
        "prompt_hash": answer.prompt_hash,
    }


def checked_deltas(events: Iterable[StreamEvent]) -> Iterator[str | Answer]:
    """What of ``Assistant.stream`` may be sent: checked text as it comes, then the Answer.

    ``text`` events carry already-checked answer text; ``token`` events (an unchecked draft)
    and ``status`` events are never passed on. When the Answer arrives, the part of its text
    not sent yet follows (all of it, from a chain that streams no checked text)."""
    sent = ""
    for event in events:
        if event.kind == "text" and event.text:
            sent += event.text
            yield event.text
        elif event.kind == "answer" and event.answer is not None:
            final = event.answer.text
            if final.startswith(sent):
                rest = final[len(sent):]
            else:  # cannot happen with a chain that streams only checked text; stay complete
                log.warning("streamed text is not a prefix of the checked answer")
                rest = "\n\n" + final
            if rest:
                yield rest
            yield event.answer
            return


class _Completion:
    """Ids and shapes shared by one response's chunks."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def chunk(self, delta: dict[str, Any], finish: str | None = None,
              extra: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if extra is not None:
            body["clincite"] = extra
        return _sse(body)

    def message(self, answer: Answer) -> dict[str, Any]:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created,
            "model": self.model, "system_fingerprint": answer.settings_hash,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": message_content(answer),
                                     "refusal": None}}],
            "clincite": clincite_extra(answer),
        }


def _sse(body: dict[str, Any]) -> str:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def sse_stream(completion: _Completion, events: Iterator[StreamEvent]) -> Iterator[str]:
    """Server-sent events in OpenAI's chunk format, then ``data: [DONE]``. An error after the
    stream began is sent as an OpenAI error event (the SDKs raise it)."""
    yield completion.chunk({"role": "assistant", "content": ""})
    try:
        for item in checked_deltas(events):
            if isinstance(item, str):
                yield completion.chunk({"content": item})
            else:
                sources = sources_text(item)
                if sources:
                    yield completion.chunk({"content": sources})
                yield completion.chunk({}, finish="stop", extra=clincite_extra(item))
    except ClinCiteError as exc:
        yield _sse(api_error(exc).body())
    except Exception:  # noqa: BLE001 - the client gets one line; the log gets the traceback
        log.exception("answer stream failed")
        yield _sse(ApiError(500, "internal error while answering; the server log has the "
                                 "details", type="server_error").body())
    yield "data: [DONE]\n\n"


# -- the app ----------------------------------------------------------------------------------


class BodyLimit:
    """Refuse request bodies over a limit with an OpenAI-style 413 (uploads may be larger than
    JSON requests). The rest of an oversized body is read and dropped first, so the client
    sees the 413 rather than a reset connection."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], tuple[int, str]]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, message = self.limit_for(scope)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _drain(receive, 0)
            await ApiError(413, message, code="request_too_large").response()(scope, receive,
                                                                                send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    if msg.get("more_body"):
                        await _drain(receive, received)
                    raise HTTPException(413, detail=message)
            return msg

        await self.app(scope, limited, send)


async def _drain(receive: Receive, received: int) -> None:
    while received < DRAIN_LIMIT:
        msg = await receive()
        if msg["type"] != "http.request":
            return
        received += len(msg.get("body", b""))
        if not msg.get("more_body"):
            return


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "the request is not valid", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return ("the request body is not valid JSON "
                f"({first.get('ctx', {}).get('error', 'decode error')}); send a JSON object "
                "with model and messages"), None
    if first.get("type") == "missing" and not loc:
        return "the request has no body: send a JSON object with model and messages", None
    param = ".".join(loc) or None
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    where = f"{param}: " if param else ""
    return f"{where}{first.get('msg', 'invalid value')}{more}", param


def create_app(assistant: Assistant, settings: Settings | None = None, *,
               host: str = "127.0.0.1") -> FastAPI:
    """The HTTP app: the API under ``/v1``. ``host`` is the address the server listens on;
    it decides whether API keys are required (see ``key_required``)."""
    settings = settings or assistant.settings
    keys = [k.get_secret_value() for k in settings.server.api_keys]
    needs_key = key_required(host, keys, settings.server.require_api_key)
    # the ingest's own limit (the assistant's settings), so both checks agree
    max_file_mb = assistant.settings.max_file_mb
    max_upload = int(max_file_mb * 1024 * 1024)
    upload_limit = max_upload + 1024 * 1024  # the form's boundaries and headers
    json_limit = settings.server.max_request_kb * 1024
    model_ids = [MODEL_ID] + ([settings.llm.model] if settings.llm.model != MODEL_ID else [])

    def authorize(request: Request) -> None:
        if needs_key:
            check_key(request.headers.get("authorization"), keys, host)

    def limit_for(scope: Scope) -> tuple[int, str]:
        if scope.get("method") == "POST" and scope["path"].rstrip("/").endswith("/documents"):
            return upload_limit, (f"the upload is over the {max_file_mb:g} MB limit; "
                                  "split the file or raise CLINCITE_MAX_FILE_MB on the server")
        return json_limit, (f"the request body is over {settings.server.max_request_kb} KB; "
                            "send a shorter conversation (or raise "
                            "CLINCITE_SERVER__MAX_REQUEST_KB)")

    router = APIRouter(dependencies=[Depends(authorize)])

    @router.get("/models")
    def list_models() -> dict[str, Any]:
        """The ClinCite assistant and the LLM under it (both are answered through ClinCite)."""
        return {"object": "list", "data": [_model_card(m, settings) for m in model_ids]}

    @router.get("/models/{model_id:path}")
    def get_model(model_id: str) -> dict[str, Any]:
        _check_model(model_id, model_ids)
        return _model_card(model_id, settings)

    @router.post("/chat/completions", response_model=None)
    def chat_completions(body: ChatCompletionRequest) -> JSONResponse | StreamingResponse:
        """Answer the last user message from the indexed documents, checked and cited."""
        _check_model(body.model, model_ids)
        if body.n != 1:
            raise ApiError(400, "n must be 1: ClinCite gives one checked answer per question",
                           param="n", code="invalid_value")
        if not body.messages:
            raise ApiError(400, "messages is empty: send the question as a 'user' message",
                           param="messages", code="empty_messages")
        last = body.messages[-1]
        if last.role != "user":
            raise ApiError(400, f"the last message is from '{last.role}': end the messages "
                                "with the user's question", param="messages",
                           code="invalid_value")
        question = last.text()
        history = [{"role": m.role, "content": strip_sources(m.text())}
                   for m in body.messages[:-1] if m.role in ("user", "assistant")]
        options = body.clincite or ClinCiteOptions()
        completion = _Completion(body.model)
        if not body.stream:
            answer = assistant.ask(question, history=history,
                                   filters=as_filters(options.filters), k=options.k)
            return JSONResponse(completion.message(answer))
        events = iter(assistant.stream(question, history=history,
                                       filters=as_filters(options.filters), k=options.k))
        # Run up to the first event here: an empty index or a bad question is then a plain
        # error response with its status, not an error inside a 200 stream.
        first = next(events, None)
        stream = _chain([first] if first is not None else [], events)
        return StreamingResponse(sse_stream(completion, stream), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @router.get("/documents")
    def list_documents() -> dict[str, Any]:
        return {"object": "list", "data": [_document_card(d) for d in assistant.documents()]}

    @router.post("/documents", status_code=201)
    def upload_document(file: UploadFile = File(..., description="a .txt, .md, .html or "
                                                                 ".pdf file")) -> dict[str, Any]:
        """Add one document (the same checks and size limit as ``clincite ingest``)."""
        name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
        if not name or name.startswith("."):
            raise ApiError(400, "the upload has no usable file name: send the file as "
                                "multipart field 'file' with its name (e.g. trial.pdf)",
                           param="file", code="invalid_file")
        with tempfile.TemporaryDirectory(prefix="clincite-upload-") as tmp:
            path = Path(tmp) / name
            with open(path, "wb") as out:
                shutil.copyfileobj(file.file, out, 1024 * 1024)
            size = path.stat().st_size
            report = assistant.ingest([path])
        result = report.results[0]
        if result.status == "failed":
            raise ApiError(413 if size > max_upload else 400, f"{name}: {result.error}",
                           param="file", code="ingest_failed")
        record = next((d for d in assistant.documents() if d["doc_id"] == result.doc_id), {})
        return {**_document_card(record), "status": result.status, "filename": name}

    @router.delete("/documents/{doc_id:path}")
    def delete_document(doc_id: str) -> dict[str, Any]:
        chunks = assistant.remove_document(doc_id)
        return {"object": "document.deleted", "doc_id": doc_id, "deleted": True,
                "chunks": chunks}

    api = FastAPI(title="ClinCite API", version="1",
                  description="OpenAI-compatible chat completions with checked, cited answers "
                              "from the indexed documents; documents over HTTP.")
    api.include_router(router)
    _install_error_handlers(api)
    api.add_middleware(BodyLimit, limit_for=limit_for)

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.mount("/v1", api)
    _install_error_handlers(root)
    return root


def _chain(first: Iterable[StreamEvent], rest: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
    yield from first
    yield from rest


def _check_model(model: str, model_ids: list[str]) -> None:
    if model not in model_ids:
        raise ApiError(404, f"the model '{model}' does not exist here: use '{MODEL_ID}' "
                            "(GET /v1/models lists the models)", param="model",
                       code="model_not_found")


def _model_card(model_id: str, settings: Settings) -> dict[str, Any]:
    card: dict[str, Any] = {"id": model_id, "object": "model", "created": 0,
                            "owned_by": "clincite"}
    if model_id == MODEL_ID:
        card["root"] = settings.llm.model
        card["clincite"] = {"llm": settings.llm.model, "embedder": settings.embedder.model,
                            "settings_hash": settings.fingerprint()}
    else:
        card["parent"] = MODEL_ID
        card["clincite"] = {"role": "the LLM under ClinCite; requests naming it are answered "
                                    "through ClinCite's checked pipeline too"}
    return card


def _document_card(record: dict[str, Any]) -> dict[str, Any]:
    return {"object": "document", "doc_id": record.get("doc_id"),
            "title": record.get("title"), "language": record.get("language"),
            "kind": record.get("kind"), "chunks": record.get("n_chunks")}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(ClinCiteError)
    async def _clincite_error(_request: Request, exc: ClinCiteError) -> JSONResponse:
        return api_error(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return ApiError(400, message, param=param, code="invalid_request").response()

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = (f"no such endpoint: {request.method} {request.url.path}; the API is "
                       "/v1/models, /v1/chat/completions and /v1/documents")
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return ApiError(exc.status_code, message, code={404: "not_found", 405:
                        "method_not_allowed", 413: "request_too_large"}.get(exc.status_code)
                        ).response()

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed", exc_info=exc)
        return ApiError(500, "internal error; the server log has the details",
                        type="server_error").response()


# -- running it -------------------------------------------------------------------------------


def check_listen(host: str, settings: Settings) -> None:
    """``clincite api`` refuses to start where nobody could use it: beyond loopback without
    API keys."""
    if not is_loopback(host) and not settings.server.api_keys:
        raise ConfigError(f"refusing to serve the API on {host} without API keys: set "
                          "CLINCITE_SERVER__API_KEYS=<key>[,<key>...] or listen on 127.0.0.1")


def run_server(app: Any, host: str, port: int) -> None:
    """Serve ``app`` until Ctrl+C."""
    import uvicorn

    # Open streams (a chat front end's, Gradio's queue) would hold a graceful shutdown
    # forever: after a few seconds they are cut, so Ctrl+C and SIGTERM always stop it.
    uvicorn.run(app, host=host, port=port, log_level="warning",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S)


@contextmanager
def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0,
                    start_timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``app`` from a background thread (tests, benchmarks); yields the base URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           lifespan="on",
                                           timeout_graceful_shutdown=SHUTDOWN_GRACE_S))
    thread = threading.Thread(target=server.run, name="clincite-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"the HTTP server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
