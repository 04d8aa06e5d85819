"""End-to-end with the real default models (EmbeddingGemma; the GGUF LLM in test_e2e_answer).

Skipped when `clincite models fetch` has not been run; .ci/run fetches them first.
"""

from __future__ import annotations

import pytest

from assistant.config import Settings

from .conftest import SAMPLE, real_models_dir

MODELS = real_models_dir()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(MODELS is None,
                                                  reason="run `clincite models fetch` first")]


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    from assistant.models import load_embedder
    from ingest.pipeline import ingest_paths
    from ingest.store import IndexStore

    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), models_dir=MODELS,
                        embedder={"model": "st:default"})
    embedder = load_embedder(settings)
    store = IndexStore(settings, embedder.name)
    report = ingest_paths([SAMPLE], settings, embedder, store)
    return settings, embedder, store, report


def test_sample_corpus_ingests_with_real_embedder(real_index) -> None:
    settings, embedder, store, report = real_index
    assert report.count("added") == 5 and not report.failed
    assert store.count_chunks() == report.chunks > 50
    assert embedder.name == "st:embeddinggemma-300m"


@pytest.mark.parametrize("question, expected_doc, expected_text", [
    ("ALTER-S004研究中安罗替尼联合化疗的ORR是多少?", "000_a0e78b7251f244fd.txt", "28.57%"),
    ("What ages are eligible for the SBRT plus PD-1 osteosarcoma trial?",
     "002_bd6c93367f61d5fe.txt", "no more than 65 years old"),
    # cross-lingual: English question, Chinese passage
    ("What share of breast cancer bone metastases are mainly osteolytic?",
     "004_4fa348ccd5968a8f.txt", "八成以上"),
])
def test_dense_retrieval_finds_the_passage(real_index, question, expected_doc,
                                           expected_text) -> None:
    settings, embedder, store, _ = real_index
    # dense candidates feed fusion (fetch_k=30); the passage must be among the first 8
    hits = store.dense_search(embedder.embed_query(question), 8)
    assert any(h.doc_id == expected_doc and expected_text in h.text for h in hits), \
        [(h.doc_id, h.text[:60]) for h in hits]


def test_reingest_with_real_embedder_adds_nothing(real_index) -> None:
    from ingest.pipeline import ingest_paths

    settings, embedder, store, report = real_index
    again = ingest_paths([SAMPLE], settings, embedder, store)
    assert again.count("skipped") == 5 and again.chunks == 0
    assert store.count_chunks() == report.chunks
