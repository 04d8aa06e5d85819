"""End-to-end answers with the real default models (EmbeddingGemma + Qwen2.5 GGUF through
llama-cpp-python) on the sample corpus. Skipped when the models are not fetched."""

from __future__ import annotations

import pytest

from assistant import Assistant, Settings
from assistant.citations import REFUSAL

from .conftest import SAMPLE, real_models_dir

MODELS = real_models_dir()
try:
    import llama_cpp  # noqa: F401
    HAVE_LLAMA = True
except ImportError:
    HAVE_LLAMA = False

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    MODELS is None or not HAVE_LLAMA, reason="run scripts/setup.sh (models + llama-cpp-python)")]


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Assistant:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), models_dir=MODELS,
                        embedder={"model": "st:default"}, llm={"model": "llamacpp:default"},
                        retrieval={"min_similarity": 0.30})
    assistant = Assistant(settings)
    assert not assistant.ingest([SAMPLE]).failed
    return assistant


@pytest.mark.parametrize("question, language, number, doc", [
    ("ALTER-S004研究中安罗替尼联合化疗的ORR是多少?", "zh", "28.57", "000_a0e78b7251f244fd.txt"),
    ("与唑来膦酸相比,地舒单抗使首次SRE的发生风险下降了多少?", "zh", "20%",
     "004_4fa348ccd5968a8f.txt"),
    ("What Lansky score is required for patients under 16 in the SBRT osteosarcoma trial?",
     "en", "70", "002_bd6c93367f61d5fe.txt"),
    # cross-lingual: English question, answer in a Chinese document
    ("In the ALTER-S004 study, what was the objective response rate of anlotinib plus "
     "chemotherapy?", "en", "28.57", "000_a0e78b7251f244fd.txt"),
])
def test_answers_with_verified_citation(bot: Assistant, question: str, language: str,
                                        number: str, doc: str) -> None:
    answer = bot.ask(question)
    assert answer.language == language
    assert not answer.abstained, (answer.draft, answer.checks)
    assert number in answer.text
    assert any(c.doc_id == doc and number in c.quote for c in answer.citations), answer.citations
    for c in answer.citations:  # every quote is really in its document, where it says
        assert bot.store.document_text(c.doc_id)[c.quote_start:c.quote_end] == c.quote


@pytest.mark.parametrize("question, language", [
    ("What is the capital of France?", "en"),
    ("今天北京的天气怎么样?", "zh"),
])
def test_declines_what_the_documents_do_not_answer(bot: Assistant, question: str,
                                                   language: str) -> None:
    answer = bot.ask(question)
    assert answer.abstained and answer.text == REFUSAL[language] and not answer.citations
