"""The real EmbeddingGemma in each dtype and backend gives the vectors torch float32 gives.

The dtype is left out of the index name because float32 and bfloat16 vectors agree; a backend
is in it, but an export must still agree with torch before it is used. A few texts each, so
these stay fast; an export not yet made is made once (cached beside the model). Skipped when
`clincite models fetch` has not run, or the backend's runtime is not installed.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from .conftest import real_models_dir

MODELS = real_models_dir()
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(MODELS is None,
                                                  reason="run `clincite models fetch` first")]

TEXTS = ["title: Bone metastases | text: Denosumab delayed the first skeletal-related event.",
         "title: 骨肉瘤 | text: 安罗替尼联合化疗的客观缓解率为28.57%。"]
QUESTIONS = ["What share of breast cancer bone metastases are mainly osteolytic?",
             "ALTER-S004研究中安罗替尼联合化疗的ORR是多少?"]


def _vectors(embedder) -> np.ndarray:
    return np.vstack([embedder.embed_documents(TEXTS),
                      np.stack([embedder.embed_query(q) for q in QUESTIONS])])


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    from assistant.fetch import EMBEDDER, target_path
    from assistant.models import SentenceTransformerEmbedder

    return _vectors(SentenceTransformerEmbedder(target_path(EMBEDDER, MODELS), dtype="float32"))


def test_bfloat16_vectors_agree_with_float32(reference) -> None:
    from assistant.fetch import EMBEDDER, target_path
    from assistant.models import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(target_path(EMBEDDER, MODELS), dtype="bfloat16")
    assert embedder.dtype == "bfloat16"
    cos = (reference * _vectors(embedder)).sum(axis=1)
    assert cos.min() >= 0.999, cos  # why the dtype is not part of the index name


@pytest.mark.parametrize("backend, floor", [
    ("onnx", 0.99), ("onnx-int8", 0.95), ("openvino", 0.99), ("openvino-int8", 0.95),
])
def test_backend_vectors_agree_with_torch(reference, backend, floor) -> None:
    runtime = "openvino" if backend.startswith("openvino") else "onnxruntime"
    needs = [runtime, "onnx"] + (["nncf"] if backend == "openvino-int8" else [])
    missing = [m for m in needs if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install -e '.[backends]')")
    from assistant.fetch import EMBEDDER, target_path
    from assistant.models import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(target_path(EMBEDDER, MODELS), backend=backend)
    assert embedder.name == f"st:embeddinggemma-300m+{backend}"
    assert embedder.export["cosine_min"] >= floor  # verified when exported
    cos = (reference * _vectors(embedder)).sum(axis=1)
    assert cos.min() >= floor, cos
