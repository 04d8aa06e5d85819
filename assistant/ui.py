"""The Gradio chat app. Formatting and wiring only: every answer comes from the Python API.

``ChatHandlers`` holds the functions the UI calls, so tests exercise them directly without a
browser; ``build_app`` lays them out; ``serve`` launches it. gradio is imported lazily.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.loaders import SUPPORTED

from .api import Assistant
from .config import Settings
from .errors import ClinCiteError
from .injection import neutralise
from .types import Answer, RetrievedChunk
from .wording import DISCLAIMER

EXAMPLES = [
    "ALTER-S004研究中安罗替尼联合化疗的ORR是多少?",
    "与唑来膦酸相比,地舒单抗使首次SRE的发生风险下降了多少?",
    "How many participants will the SBRT plus PD-1 osteosarcoma trial enroll?",
    "What proportion of breast cancer bone metastases are mainly osteolytic?",
]
LANGUAGES = {"All": None, "中文 (zh)": "zh", "English (en)": "en"}
UPLOAD_TYPES = sorted(SUPPORTED)  # what ingest reads: ingest/loaders.py LOADERS
_MARKER = re.compile(r"\[(\d{1,2})\]")
STATUS = {"retrieving": "Searching the documents…",
          "generating": "Writing; each statement is shown once it is checked…",
          "checking": "Checking every statement against the sources…"}

CSS = """
.clincite-source {border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;margin:8px 0}
.clincite-source:target {border-color:#d97706;box-shadow:0 0 0 3px #fde68a}
.clincite-source mark {background:#fde68a;padding:0 2px}
.clincite-meta {color:#57606a;font-size:0.85em}
.clincite-disclaimer {color:#8a4b00;font-size:0.9em}
"""


def answer_markdown(answer: Answer) -> str:
    """The checked answer with clickable markers ([1] jumps to source 1)."""
    if answer.abstained:
        return (f"**{answer.text}**\n\n_Nothing in the indexed documents supports an answer; "
                "the closest passages are shown beside the chat._")
    linked = _MARKER.sub(lambda m: f"[[{m.group(1)}]](#src-{m.group(1)})", answer.text)
    dropped = sum(1 for c in answer.checks if c.action == "dropped")
    note = f"✔ every statement checked against its quoted source ({len(answer.citations)} cited)"
    if dropped:
        note += f"; {dropped} unsupported statement(s) removed"
    return f"{linked}\n\n<sub>{note}</sub>"


def _highlight(passage: str, quote_start: int, quote_end: int) -> str:
    """The passage with its quote highlighted; text addressed to an AI around it is removed."""
    before, quote, after = (neutralise(passage[:quote_start]), passage[quote_start:quote_end],
                            neutralise(passage[quote_end:]))
    return (html.escape(before) + "<mark>" + html.escape(quote) + "</mark>" +
            html.escape(after)).replace("\n", "<br>")


def _source_card(n: str, title: str, doc_id: str, kind: str, language: str, body: str,
                 anchor: str, page: int | None = None) -> str:
    where = html.escape(doc_id) + (f" · p. {page}" if page is not None else "")
    return (f'<div class="clincite-source" id="{anchor}"><b>[{n}] {html.escape(title)}</b>'
            f'<div class="clincite-meta">{html.escape(kind)} · {language} · '
            f"{where}</div><div>{body}</div></div>")


def sources_html(answer: Answer | None) -> str:
    """Each citation's passage with the supporting sentence highlighted; for an abstention,
    the closest passages."""
    if answer is None:
        return "<p class='clincite-meta'>Sources appear here.</p>"
    by_id: dict[str, RetrievedChunk] = {r.chunk_id: r for r in answer.retrieved}
    if answer.abstained or not answer.citations:
        cards = [_source_card(str(i), r.title, r.doc_id, r.kind, r.language,
                              html.escape(neutralise(r.text)).replace("\n", "<br>"),
                              f"near-{i}",
                              r.page)
                 for i, r in enumerate(answer.retrieved[:3], 1)]
        return "<h4>Closest passages (not an answer)</h4>" + "".join(cards)
    cards = []
    for c in answer.citations:
        chunk = by_id.get(c.chunk_id)
        passage = chunk.text if chunk else c.quote
        rel_start = c.quote_start - c.start if chunk else 0
        rel_end = c.quote_end - c.start if chunk else len(c.quote)
        cards.append(_source_card(str(c.n), c.title, c.doc_id, c.kind, c.language,
                                  _highlight(passage, rel_start, rel_end), f"src-{c.n}",
                                  c.page))
    return "<h4>Sources</h4>" + "".join(cards)


class ChatHandlers:
    """What the app's events call. Holds one Assistant (models load once per process)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def models_line(self) -> str:
        s = self.assistant.settings
        return f"Embedder `{s.embedder.model}` · LLM `{s.llm.model}`"

    def document_choices(self) -> list[tuple[str, str]]:
        return [(f"{d['title']} ({d['doc_id']})", d["doc_id"])
                for d in self.assistant.documents()]

    def documents_table(self) -> list[list[Any]]:
        return [[d["title"], d["doc_id"], d["kind"], d["language"], d["n_chunks"]]
                for d in self.assistant.documents()]

    def respond(self, message: str, chat: list[dict[str, Any]] | None,
                turns: list[tuple[str, str]] | None, doc_ids: Sequence[str] | None = None,
                language: str = "All", k: int | None = None
                ) -> Iterator[tuple[list[dict[str, Any]], list[tuple[str, str]], str, str]]:
        """Stream one turn: yields (chat messages, conversation turns, sources html, textbox)."""
        chat = list(chat or [])
        turns = list(turns or [])
        message = (message or "").strip()
        if not message:
            yield list(chat), list(turns), sources_html(None), ""
            return
        chat.append({"role": "user", "content": message})
        chat.append({"role": "assistant", "content": "_Searching the documents…_"})
        yield list(chat), list(turns), sources_html(None), ""
        filters: dict[str, list[str]] = {}
        if doc_ids:
            filters["doc_id"] = list(doc_ids)
        chosen_language = LANGUAGES.get(language)
        if chosen_language:
            filters["language"] = [chosen_language]
        checked = ""  # only text that already passed the checker is ever shown
        try:
            for event in self.assistant.stream(message, history=turns, filters=filters or None,
                                               k=int(k) if k else None):
                if event.kind == "text":
                    checked += event.text
                    chat[-1] = {"role": "assistant",
                                "content": f"{checked}\n\n<sub>_✔ checked so far; writing…_</sub>"}
                    yield list(chat), list(turns), sources_html(None), ""
                elif event.kind == "status":
                    chat[-1] = {"role": "assistant",
                                "content": f"{checked}\n\n<sub>_{STATUS[event.text]}_</sub>"}
                    yield list(chat), list(turns), sources_html(None), ""
                elif event.kind == "answer" and event.answer is not None:
                    answer = event.answer
                    chat[-1] = {"role": "assistant", "content": answer_markdown(answer)}
                    turns.append((message, answer.text))
                    yield list(chat), list(turns), sources_html(answer), ""
        except ClinCiteError as exc:
            chat[-1] = {"role": "assistant", "content": f"⚠️ {exc}"}
            yield list(chat), list(turns), sources_html(None), ""

    def upload(self, files: Sequence[Any] | None) -> tuple[str, list[list[Any]]]:
        """Ingest uploaded files; one result line per file."""
        if not files:
            return "Choose one or more .txt, .md, .html or .pdf files.", self.documents_table()
        lines = []
        for f in files:
            path = Path(getattr(f, "name", f))
            try:
                report = self.assistant.ingest([path])
            except ClinCiteError as exc:
                lines.append(f"- ❌ **{path.name}**: {exc}")
                continue
            for r in report.results:
                if r.status == "failed":
                    lines.append(f"- ❌ **{path.name}**: {r.error}")
                elif r.status == "skipped":
                    lines.append(f"- ⏭️ **{path.name}**: already indexed, unchanged")
                else:
                    lines.append(f"- ✅ **{path.name}**: {r.status}, {r.chunks} passages; "
                                 "searchable now")
        return "\n".join(lines), self.documents_table()


def build_app(assistant: Assistant) -> Any:
    import gradio as gr

    handlers = ChatHandlers(assistant)
    with gr.Blocks(title="ClinCite") as app:
        gr.Markdown("# ClinCite\nAnswers from the indexed sarcoma and bone-metastasis "
                    "literature, every statement checked against a quoted source.")
        gr.Markdown(f'<span class="clincite-disclaimer">⚕️ {DISCLAIMER}</span>')
        turns = gr.State([])
        with gr.Tab("Ask"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Conversation", height=480, elem_id="chat")
                    box = gr.Textbox(placeholder="Ask in Chinese or English / 中英文提问均可",
                                     show_label=False, elem_id="question")
                    with gr.Row():
                        send = gr.Button("Ask", variant="primary", elem_id="ask")
                        clear = gr.Button("New conversation")
                    gr.Examples(EXAMPLES, inputs=box, label="Examples")
                with gr.Column(scale=2):
                    sources = gr.HTML(sources_html(None), elem_id="sources")
            with gr.Accordion("Search settings", open=False):
                doc_filter = gr.Dropdown(handlers.document_choices(), multiselect=True,
                                         label="Only these documents (empty = all)")
                lang_filter = gr.Radio(list(LANGUAGES), value="All", label="Language")
                k = gr.Slider(1, 12, value=assistant.settings.retrieval.k, step=1,
                              label="Passages given to the model")
                gr.Markdown(handlers.models_line())
        with gr.Tab("Documents"):
            upload = gr.File(file_count="multiple", file_types=UPLOAD_TYPES,
                             label="Add documents", elem_id="upload")
            result = gr.Markdown(elem_id="upload-result")
            table = gr.Dataframe(handlers.documents_table(),
                                 headers=["title", "doc id", "kind", "language", "passages"],
                                 interactive=False, elem_id="documents")

        inputs = [box, chatbot, turns, doc_filter, lang_filter, k]
        outputs = [chatbot, turns, sources, box]
        # The embedded LLM generates one answer at a time; extra questions wait in the queue.
        send.click(handlers.respond, inputs, outputs, concurrency_limit=2,
                   concurrency_id="answer")
        box.submit(handlers.respond, inputs, outputs, concurrency_limit=2,
                   concurrency_id="answer")
        clear.click(lambda: ([], [], sources_html(None)), None, [chatbot, turns, sources])

        def on_upload(files):
            status, rows = handlers.upload(files)
            return status, rows, gr.update(choices=handlers.document_choices())

        upload.upload(on_upload, upload, [result, table, doc_filter], concurrency_limit=1)
    app.queue(max_size=64, default_concurrency_limit=2)
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          assistant: Assistant | None = None, block: bool = True) -> Any:
    """Serve the app at / and the OpenAI-compatible API at /v1 on one port (see
    assistant/http_api.py). Optional app login from CLINCITE_UI_USERNAME /
    CLINCITE_UI_PASSWORD; the API takes API keys instead. ``block=False`` returns a context
    manager that serves from a thread while it is open."""
    import gradio as gr

    from .http_api import create_app, key_required, run_server, serve_in_thread

    assistant = assistant or Assistant(settings)
    assistant.store.require_nonempty()
    assistant.warm_up()
    app = create_app(assistant, settings, host=host)
    user = settings.ui_username
    password = settings.ui_password.get_secret_value() if settings.ui_password else None
    gr.mount_gradio_app(app, build_app(assistant), path="/", server_name=host,
                        server_port=port, footer_links=[],
                        auth=(user, password) if user and password else None, css=CSS,
                        show_error=False)
    keys = settings.server.api_keys
    if key_required(host, keys, settings.server.require_api_key) and not keys:
        print(f"note: the API at /v1 refuses every request on {host} until "
              "CLINCITE_SERVER__API_KEYS is set", file=sys.stderr, flush=True)
    if not block:
        return serve_in_thread(app, host, port)
    print(f"ClinCite is running: open http://{host}:{port} in a browser; OpenAI-compatible "
          f"API at http://{host}:{port}/v1 (Ctrl+C stops it)", flush=True)
    run_server(app, host, port)
    return app
