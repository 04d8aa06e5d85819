"""The embedder's dtype by measurement and its backends, without loading a model: the decision
table, the cache (keying, corruption, unwritable folders), settings overrides, and the index
name, which changes with the backend but not with the dtype."""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from assistant import calibration
from assistant.calibration import choose_dtype, key_id, machine_key, read_decision, write_decision
from assistant.config import Settings
from assistant.models import embedder_name, st_embedder_name
from ingest.store import index_name

KEY = machine_key("embeddinggemma-300m", cpu="AMD EPYC", flags=["avx2", "fma"],
                  versions={"torch": "2.13.0", "sentence-transformers": "6.2.0"})


@pytest.mark.parametrize("seconds, expected", [
    ({"float32": 1.0, "bfloat16": 0.5}, "bfloat16"),  # clearly faster
    ({"float32": 1.0, "bfloat16": 2.0}, "float32"),
    ({"float32": 1.0, "bfloat16": 1.0}, "float32"),  # exact tie
    ({"float32": 1.0, "bfloat16": 0.97}, "float32"),  # within 5%: noise, keep the reference
    ({"float32": 1.0, "bfloat16": 0.96}, "float32"),  # 1.0 <= 0.96 * 1.05
    ({"float32": 1.0, "bfloat16": 0.94}, "bfloat16"),  # beyond the tie band
    ({"float32": 1 / 3.05, "bfloat16": 1 / 2.07}, "float32"),  # issue 14's Xeon (chunks/s)
    ({"float32": 2.68, "bfloat16": 1.0}, "bfloat16"),  # the AMD EPYC with native bf16
    ({"bfloat16": 1.0}, "bfloat16"),  # float32 failed to run
    ({"float32": math.nan, "bfloat16": 1.0}, "bfloat16"),
    ({"float32": 0.0, "bfloat16": 1.0}, "bfloat16"),  # a zero timing is not a measurement
    ({"float32": 1.0, "bfloat16": math.inf}, "float32"),
    ({"float32": -1.0, "bfloat16": -2.0}, "float32"),  # nothing valid: the reference
    ({}, "float32"),
])
def test_choose_dtype(seconds, expected) -> None:
    assert choose_dtype(seconds) == expected


def test_tie_band_is_a_parameter() -> None:
    assert choose_dtype({"float32": 1.0, "bfloat16": 0.8}, tie=0.3) == "float32"
    assert choose_dtype({"float32": 1.0, "bfloat16": 0.97}, tie=0.0) == "bfloat16"


@pytest.mark.parametrize("change", [
    {"cpu": "Intel(R) Xeon(R) Platinum 8481C"},
    {"flags": ["avx2", "fma", "avx512_bf16"]},
    {"versions": {"torch": "2.14.0", "sentence-transformers": "6.2.0"}},
    {"versions": {"torch": "2.13.0", "sentence-transformers": "6.3.0"}},
])
def test_machine_key_changes_with_cpu_flags_and_versions(change) -> None:
    base = {"cpu": "AMD EPYC", "flags": ["avx2", "fma"],
            "versions": {"torch": "2.13.0", "sentence-transformers": "6.2.0"}}
    other = machine_key("embeddinggemma-300m", **{**base, **change})
    assert key_id(other) != key_id(KEY)


def test_machine_key_changes_with_model_and_ignores_flag_order() -> None:
    assert key_id(machine_key("other-model", cpu="AMD EPYC", flags=["avx2", "fma"],
                              versions={"torch": "2.13.0", "sentence-transformers": "6.2.0"})
                  ) != key_id(KEY)
    same = machine_key("embeddinggemma-300m", cpu="AMD EPYC", flags=["fma", "avx2"],
                       versions={"sentence-transformers": "6.2.0", "torch": "2.13.0"})
    assert key_id(same) == key_id(KEY)


def test_machine_key_of_this_machine_names_its_cpu_and_versions() -> None:
    key = machine_key("m")
    assert key["cpu"] and key["torch"] and key["sentence-transformers"] and len(key["flags"]) == 12


def test_decision_round_trip_and_other_keys(tmp_path: Path) -> None:
    cache = tmp_path / "models" / "cal.json"
    assert read_decision(cache, KEY) is None  # no file
    assert write_decision(cache, KEY, "bfloat16", {"float32": 1.2, "bfloat16": 0.6})
    entry = read_decision(cache, KEY)
    assert entry["dtype"] == "bfloat16" and entry["seconds"] == {"float32": 1.2, "bfloat16": 0.6}
    assert entry["key"]["cpu"] == "AMD EPYC"
    other = {**KEY, "torch": "2.14.0"}
    assert read_decision(cache, other) is None
    write_decision(cache, other, "float32", {"float32": 1.0})
    # both machines' decisions are kept
    assert read_decision(cache, KEY)["dtype"] == "bfloat16"
    assert read_decision(cache, other)["dtype"] == "float32"
    assert not list(cache.parent.glob(".*.tmp"))  # written under a temporary name, renamed


@pytest.mark.parametrize("content", [
    "", "{", "not json", "[]", "null", '{"version": 1}', '{"version": 1, "entries": []}',
    json.dumps({"version": 99, "entries": {}}),
    json.dumps({"version": 1, "entries": {key_id(KEY): {"dtype": "float16"}}}),
    json.dumps({"version": 1, "entries": {key_id(KEY): "bfloat16"}}),
    b"\xff\xfe\x00garbage",
])
def test_corrupt_cache_reads_as_no_decision_and_is_overwritten(tmp_path: Path, content) -> None:
    cache = tmp_path / "cal.json"
    if isinstance(content, bytes):
        cache.write_bytes(content)
    else:
        cache.write_text(content)
    assert read_decision(cache, KEY) is None
    assert write_decision(cache, KEY, "float32", {"float32": 1.0})
    assert read_decision(cache, KEY)["dtype"] == "float32"


def test_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = blocker / "cal.json"  # its parent is a file: cannot be created
    assert write_decision(cache, KEY, "float32", {"float32": 1.0}) is False
    assert read_decision(cache, KEY) is None


# -- resolve_dtype with a fake clock: loads and batches cost what the table says ---------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(calibration.time, "perf_counter", fake)
    return fake


def fake_model(costs: dict[str, float], clock: FakeClock, loads: list[str],
               broken: tuple[str, ...] = ()):
    def load(dtype: str) -> str:
        loads.append(dtype)
        if dtype in broken:
            raise RuntimeError(f"{dtype} not supported")
        return f"model-{dtype}"

    def encode(model: str, texts: list[str]) -> None:
        assert len(texts) in (calibration.WARMUP_TEXTS, 8)
        clock.now += costs[model.removeprefix("model-")] * len(texts) / 8

    return load, encode


@pytest.mark.parametrize("costs, expected", [
    ({"float32": 1.0, "bfloat16": 0.4}, "bfloat16"),
    ({"float32": 1.0, "bfloat16": 3.0}, "float32"),
    ({"float32": 1.0, "bfloat16": 0.98}, "float32"),
])
def test_resolve_measures_once_then_uses_the_cache(tmp_path: Path, clock: FakeClock, costs,
                                                   expected) -> None:
    cache = tmp_path / "cal.json"
    loads: list[str] = []
    load, encode = fake_model(costs, clock, loads)
    model, dtype, how = calibration.resolve_dtype(load, encode, cache, KEY)
    assert (model, dtype, how["source"]) == (f"model-{expected}", expected, "measured")
    assert loads == ["float32", "bfloat16"]  # each measured, the loser dropped, none reloaded
    assert how["seconds"]["float32"] == pytest.approx(costs["float32"])
    loads.clear()
    model, dtype, how = calibration.resolve_dtype(load, encode, cache, KEY)
    assert (model, dtype, how["source"]) == (f"model-{expected}", expected, "cache")
    assert loads == [expected]  # a cached decision loads one model and times nothing


@pytest.mark.parametrize("bf16_cost, bf16_batches, timed", [
    (5.0, 1, False),  # warm-up alone 5x float32's: lost, not timed
    (2.0, 2, True),  # warm-up 2x: timed, but the first batch (2x > 1.5x) ends it
    (1.2, 4, True),  # close: all three batches timed
])
def test_resolve_stops_timing_a_dtype_that_has_lost(tmp_path: Path, clock: FakeClock,
                                                    bf16_cost, bf16_batches, timed) -> None:
    batches: list[str] = []
    loads: list[str] = []
    load, encode = fake_model({"float32": 1.0, "bfloat16": bf16_cost}, clock, loads)

    def counting(model: str, texts: list[str]) -> None:
        batches.append(model)
        encode(model, texts)

    cache = tmp_path / "c.json"
    _, dtype, how = calibration.resolve_dtype(load, counting, cache, KEY)
    assert dtype == "float32"
    assert batches.count("model-float32") == 4  # warm-up + 3
    assert batches.count("model-bfloat16") == bf16_batches
    assert ("bfloat16" in how["seconds"]) is timed
    assert how["warmup_s"]["bfloat16"] == pytest.approx(bf16_cost * 2 / 8)
    assert read_decision(cache, KEY)["warmup_s"]["bfloat16"] == pytest.approx(bf16_cost / 4)


def test_resolve_after_corrupt_cache_measures_again(tmp_path: Path, clock: FakeClock) -> None:
    cache = tmp_path / "cal.json"
    cache.write_text("{ half a file")
    loads: list[str] = []
    load, encode = fake_model({"float32": 1.0, "bfloat16": 0.5}, clock, loads)
    _, dtype, how = calibration.resolve_dtype(load, encode, cache, KEY)
    assert (dtype, how["source"]) == ("bfloat16", "measured")
    assert read_decision(cache, KEY)["dtype"] == "bfloat16"


def test_resolve_survives_a_dtype_that_cannot_run(tmp_path: Path, clock: FakeClock) -> None:
    loads: list[str] = []
    load, encode = fake_model({"float32": 1.0, "bfloat16": 0.1}, clock, loads,
                              broken=("bfloat16",))
    model, dtype, _ = calibration.resolve_dtype(load, encode, tmp_path / "c.json", KEY)
    assert (model, dtype) == ("model-float32", "float32")


# -- the embedder with a stand-in for sentence-transformers ------------------------------------

class FakeST:
    loads: list[dict] = []

    def __init__(self, path: str, *, device: str, model_kwargs: dict, local_files_only: bool):
        assert local_files_only and device == "cpu"
        FakeST.loads.append(model_kwargs)

    def encode_document(self, texts, **kwargs):
        return np.ones((len(texts), 4), dtype=np.float32)

    encode_query = encode_document


@pytest.fixture
def fake_st(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeST
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeST.loads = []
    model = tmp_path / "models" / "embeddinggemma-300m"
    model.mkdir(parents=True)
    (model / "modules.json").write_text("[]")
    return model


def test_settings_dtype_skips_the_measurement(fake_st: Path, monkeypatch) -> None:
    import torch

    from assistant.models import build_embedder

    monkeypatch.setenv("CLINCITE_EMBEDDER__MODEL", "st:default")
    monkeypatch.setenv("CLINCITE_MODELS_DIR", str(fake_st.parent))
    for dtype, kwargs in [("float32", {}), ("bfloat16", {"torch_dtype": torch.bfloat16})]:
        monkeypatch.setenv("CLINCITE_EMBEDDER__DTYPE", dtype)
        FakeST.loads = []
        embedder = build_embedder(Settings())
        assert embedder.dtype == dtype and embedder.calibration is None
        assert FakeST.loads == [kwargs]
    assert not (fake_st.parent / calibration.CACHE_NAME).exists()


def test_auto_dtype_measures_and_caches_under_the_models_dir(fake_st: Path, monkeypatch) -> None:
    from assistant.models import build_embedder

    monkeypatch.setenv("CLINCITE_EMBEDDER__MODEL", "st:default")
    monkeypatch.setenv("CLINCITE_MODELS_DIR", str(fake_st.parent))
    first = build_embedder(Settings())
    assert first.calibration["source"] == "measured" and len(FakeST.loads) == 2
    assert (fake_st.parent / calibration.CACHE_NAME).exists()
    FakeST.loads = []
    again = build_embedder(Settings())
    assert again.calibration["source"] == "cache" and again.dtype == first.dtype
    assert len(FakeST.loads) == 1
    assert first.name == again.name == "st:embeddinggemma-300m"


def test_unknown_backend_is_refused(monkeypatch) -> None:
    from assistant.errors import ConfigError

    monkeypatch.setenv("CLINCITE_EMBEDDER__BACKEND", "tensorrt")
    with pytest.raises(ConfigError, match="^CLINCITE_EMBEDDER__BACKEND='tensorrt': Input should"):
        Settings()


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8", "openvino", "openvino-int8"])
def test_settings_backend_from_environment(monkeypatch, backend) -> None:
    monkeypatch.setenv("CLINCITE_EMBEDDER__BACKEND", backend)
    assert Settings().embedder.backend == backend


# -- index names --------------------------------------------------------------------------------

def _settings(**embedder) -> Settings:
    return Settings(embedder={"model": "st:default", **embedder})


def test_index_name_includes_the_backend_but_not_the_dtype() -> None:
    torch_names = {index_name(s, embedder_name(s)) for s in
                   (_settings(), _settings(dtype="float32"), _settings(dtype="bfloat16"),
                    _settings(backend="torch", dtype="auto"))}
    assert len(torch_names) == 1  # float32 and bfloat16 vectors agree: one index
    names = {b: index_name(_settings(backend=b), embedder_name(_settings(backend=b)))
             for b in ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")}
    assert len(set(names.values())) == 5  # every backend its own index
    assert embedder_name(_settings()) == "st:embeddinggemma-300m"
    assert embedder_name(_settings(backend="onnx-int8")) == "st:embeddinggemma-300m+onnx-int8"
    assert "onnx-int8" in names["onnx-int8"]


def test_backend_does_not_rename_other_embedders() -> None:
    assert embedder_name(Settings(embedder={"model": "fake", "backend": "onnx"})).startswith(
        "fake-hashing")
    assert embedder_name(Settings(embedder={"model": "openai:e5", "backend": "onnx"})) == \
        "openai:e5"
    assert st_embedder_name(Path("/m/gemma"), "openvino") == "st:gemma+openvino"
