"""Backend exports and the rule that adopts one, without a model: where exports live, when a
cached export counts, and the adoption table of `clincite bench ingest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.embed_backends import BACKENDS, EXPORT_VERSION, SPECS, read_marker
from bench.embed_backends import adoptable


def test_every_backend_but_torch_has_its_own_file_beside_the_model(tmp_path: Path) -> None:
    assert set(SPECS) == set(BACKENDS) - {"torch"}
    files = {spec.path(tmp_path) for spec in SPECS.values()}
    assert len(files) == 4 and all(f.parent.parent == tmp_path for f in files)
    assert all(spec.marker(tmp_path).parent == spec.path(tmp_path).parent
               for spec in SPECS.values())


@pytest.mark.parametrize("marker, file_exists, usable", [
    (None, True, False),  # exported but never verified: verify (or export) again
    ({"export_version": EXPORT_VERSION, "cosine_min": 0.999}, True, True),
    ({"export_version": EXPORT_VERSION, "cosine_min": 0.999}, False, False),  # file deleted
    ({"export_version": EXPORT_VERSION - 1}, True, False),  # older recipe
    ("{ not json", True, False),
    ("[1, 2]", True, False),
])
def test_an_export_counts_only_with_its_marker(tmp_path: Path, marker, file_exists,
                                               usable) -> None:
    spec = SPECS["onnx-int8"]
    spec.path(tmp_path).parent.mkdir(parents=True)
    if file_exists:
        spec.path(tmp_path).write_bytes(b"onnx")
    if marker is not None:
        text = marker if isinstance(marker, str) else json.dumps(marker)
        spec.marker(tmp_path).write_text(text)
    assert (read_marker(spec, tmp_path) is not None) == usable


def row(backend: str, speed: float, recall: float, cross: float) -> dict:
    return {"backend": backend, "passages_per_s": speed, "recall@5": recall,
            "recall@5_cross_lingual": cross}


TORCH = {"torch float32": row("torch", 3.0, 0.900, 0.850),
         "torch bfloat16": row("torch", 1.0, 0.905, 0.850)}


@pytest.mark.parametrize("candidate, ok", [
    (row("onnx", 4.5, 0.900, 0.850), True),  # exactly 1.5x, no loss
    (row("onnx", 4.4, 0.950, 0.900), False),  # better recall, not fast enough
    (row("onnx", 6.0, 0.890, 0.850), True),  # 1 point lost: allowed
    (row("onnx", 6.0, 0.885, 0.850), False),  # 1.5 points lost
    (row("onnx", 6.0, 0.900, 0.800), False),  # cross-lingual loss: never
    (row("onnx", 6.0, 0.900, 0.900), True),
])
def test_adoption_rule(candidate, ok) -> None:
    result = adoptable({**TORCH, "onnx": candidate})
    assert result["reference"] == "torch float32"  # the faster torch dtype, not float32 per se
    assert result["verdicts"]["onnx"]["ok"] is ok
    assert result["adopt"] == ("onnx" if ok else None)


def test_adoption_compares_with_the_fastest_torch_dtype_and_picks_the_fastest_allowed() -> None:
    rows = {"torch float32": row("torch", 2.0, 0.9, 0.85),
            "torch bfloat16": row("torch", 4.0, 0.9, 0.85),
            "onnx": row("onnx", 5.0, 0.9, 0.85),  # 2.5x float32 but 1.25x bfloat16
            "onnx-int8": row("onnx-int8", 7.0, 0.9, 0.85),
            "openvino-int8": row("openvino-int8", 8.0, 0.9, 0.85),
            "openvino": {"backend": "openvino", "dtype": "float32", "error": "boom\nmore"},
            # stopped before the end of the corpus: no recall, so never adopted
            "onnx-slow": {"backend": "onnx", "passages_per_s": 9.0, "partial": True,
                          "recall@5": None}}
    result = adoptable(rows)
    assert result["reference"] == "torch bfloat16"
    assert not result["verdicts"]["onnx"]["ok"]
    assert result["verdicts"]["openvino"] == {"ok": False, "why": "failed: boom"}
    assert result["adopt"] == "openvino-int8"
    assert not result["verdicts"]["onnx-slow"]["ok"]


def test_no_torch_measurement_adopts_nothing() -> None:
    assert adoptable({"onnx": row("onnx", 9.0, 1.0, 1.0)})["adopt"] is None
