"""Other runtimes for the embedder's transformer: ONNX Runtime and OpenVINO, float and int8.

sentence-transformers' own ``backend="onnx"|"openvino"`` needs optimum-onnx / optimum-intel,
which cannot be installed beside sentence-transformers 6 here (they pin transformers < 4.58 and
< 5.6, and optimum-intel pulls a CUDA torch; see bench/results/embed_backends.md). So ClinCite
exports the transformer itself, from the fetched model and without a hub:

* ``onnx``: ``torch.onnx.export`` of the transformer (input ids and attention mask in, last
  hidden state out), run by ONNX Runtime (already installed: chromadb depends on it);
* ``onnx-int8``: that graph with ONNX Runtime's dynamic quantisation (int8 weights, activations
  quantised per batch);
* ``openvino`` / ``openvino-int8``: the ONNX graph converted by OpenVINO, float or with int8
  weights (NNCF weight compression).

Only the transformer changes: the tokenizer, the prompts, pooling, the dense layers and
normalisation stay sentence-transformers' own, so every backend sees the same inputs.

Exports are cached beside the model (``<model>/onnx/``, ``<model>/openvino/``), written under
temporary names and renamed, then verified: the exported runtime must load and give vectors
whose cosine with torch's is at least ``MIN_COSINE`` (int8: ``MIN_COSINE_INT8``; the figure is
recorded) on a few texts. A marker file with the figures is written last; without it the export
does not count and is made again.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
MIN_COSINE = 0.99  # float exports: anything lower is a broken export
MIN_COSINE_INT8 = 0.95  # int8: a lossy copy, but lower than this is a broken one
MARKER_SUFFIX = ".clincite.json"
EXPORT_VERSION = 1  # bump when the export recipe changes: old exports are then made again

VERIFY_TEXTS = (
    ("document", "title: Bone metastases | text: Denosumab delayed the first skeletal-related "
                 "event compared with zoledronic acid; hypocalcaemia occurred in 9.6%."),
    ("document", "title: 骨肉瘤 | text: 安罗替尼联合化疗的客观缓解率为28.57%，"
                 "中位无进展生存期6.1个月。"),
    ("query", "What share of breast cancer bone metastases are mainly osteolytic?"),
    ("query", "SBRT联合PD-1治疗骨肉瘤的入组年龄是多少？"),
)


@dataclass(frozen=True)
class BackendSpec:
    name: str
    folder: str  # under the model folder
    file: str  # the file a runtime loads
    runtime: str  # "onnxruntime" or "openvino"
    int8: bool

    def path(self, model_path: Path) -> Path:
        return model_path / self.folder / self.file

    def marker(self, model_path: Path) -> Path:
        return self.path(model_path).with_name(self.file + MARKER_SUFFIX)


SPECS = {
    "onnx": BackendSpec("onnx", "onnx", "model.onnx", "onnxruntime", False),
    "onnx-int8": BackendSpec("onnx-int8", "onnx", "model_qint8_dynamic.onnx", "onnxruntime", True),
    "openvino": BackendSpec("openvino", "openvino", "openvino_model.xml", "openvino", False),
    "openvino-int8": BackendSpec("openvino-int8", "openvino", "openvino_model_int8_weights.xml",
                                 "openvino", True),
}


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


# -- runtimes: stand-ins for the Hugging Face model inside sentence-transformers' Transformer ----

def _runtime_module(base: Any, run: Any, config: Any) -> Any:
    """An ``nn.Module`` that sentence-transformers' Transformer module can call in place of the
    Hugging Face model: ids and mask in, ``{"last_hidden_state": tensor}`` out."""
    import torch

    class ExportedTransformer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = config
            self.runtime = base

        def forward(self, input_ids: Any = None, attention_mask: Any = None,
                    **_: Any) -> dict[str, Any]:
            ids = input_ids.detach().cpu().numpy().astype(np.int64, copy=False)
            mask = attention_mask.detach().cpu().numpy().astype(np.int64, copy=False)
            return {"last_hidden_state": torch.from_numpy(np.ascontiguousarray(run(ids, mask)))}

    return ExportedTransformer()


def load_runtime(spec: BackendSpec, file: Path, config: Any) -> Any:
    """The exported transformer at ``file`` as a module sentence-transformers can call."""
    if spec.runtime == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])

        def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return session.run(["last_hidden_state"], {"input_ids": ids,
                                                       "attention_mask": mask})[0]

        return _runtime_module(session, run, config)
    import openvino as ov

    core = ov.Core()
    compiled = core.compile_model(str(file), "CPU", {"PERFORMANCE_HINT": "LATENCY",
                                                     "INFERENCE_NUM_THREADS": _threads()})
    request = compiled.create_infer_request()

    def run_ov(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = request.infer({"input_ids": ids, "attention_mask": mask})
        return np.array(out[compiled.output("last_hidden_state")], copy=True)

    return _runtime_module(compiled, run_ov, config)


# -- export ---------------------------------------------------------------------------------

def _tmp(path: Path) -> Path:
    """A temporary name beside ``path`` with the same suffix (OpenVINO insists on ".xml")."""
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def attention_masks(attention_mask: Any, config: Any) -> dict[str, Any]:
    """Gemma3's two attention masks, additive (0 = attend, dtype minimum = masked), made of
    plain tensor ops so that tracing records them for any batch and length.

    transformers builds them with ``torch.vmap``, which the ONNX exporter cannot trace; these are
    the same rules: full attention sees every real token; sliding attention sees real tokens
    closer than ``sliding_window``; both only backwards when the model is causal."""
    import torch

    seq = attention_mask.shape[1]
    pos = torch.arange(seq, device=attention_mask.device)
    real = attention_mask[:, None, None, :].bool()  # (batch, 1, 1, kv)
    distance = pos[:, None] - pos[None, :]  # q - kv
    window = distance.abs() < config.sliding_window
    full = real.expand(-1, 1, seq, -1)
    if not getattr(config, "use_bidirectional_attention", False):
        causal = (distance >= 0)[None, None]
        full = full & causal
        window = window & (distance >= 0)
    sliding = full & window[None, None]
    low = torch.finfo(torch.float32).min
    zero = torch.zeros((), dtype=torch.float32)
    return {"full_attention": torch.where(full, zero, low),
            "sliding_attention": torch.where(sliding, zero, low)}


def _export_onnx(st_model: Any, dest: Path) -> None:
    """``torch.onnx.export`` of the Hugging Face transformer inside ``st_model`` (float32)."""
    import torch

    hf = st_model[0].auto_model
    if getattr(hf.config, "model_type", "") not in ("gemma3_text", "gemma3"):
        raise RuntimeError(f"exporting {hf.config.model_type} is not supported: the attention "
                           "masks are written for Gemma3 (EmbeddingGemma); use backend torch")
    # eager attention: a plain graph of matmuls plus the additive masks, which both runtimes
    # fuse; the masks are passed in ready-made (see attention_masks)
    previous = getattr(hf.config, "_attn_implementation", None)
    if hasattr(hf, "set_attn_implementation"):
        hf.set_attn_implementation("eager")
    else:
        hf.config._attn_implementation = "eager"

    class Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.hf(input_ids=input_ids,
                           attention_mask=attention_masks(attention_mask, hf.config),
                           return_dict=True).last_hidden_state

    # two texts of different lengths: the padded batch makes the mask path the general one
    batch = st_model.tokenizer(["title: a | text: short", "title: b | text: " + "longer " * 20],
                               padding=True, return_tensors="pt")
    tmp = _tmp(dest)
    try:
        with torch.no_grad():
            torch.onnx.export(
                Wrapper().eval(), (batch["input_ids"], batch["attention_mask"]), str(tmp),
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                              "attention_mask": {0: "batch", 1: "seq"},
                              "last_hidden_state": {0: "batch", 1: "seq"}},
                opset_version=17, do_constant_folding=True, dynamo=False,
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        if previous is not None:
            if hasattr(hf, "set_attn_implementation"):
                hf.set_attn_implementation(previous)
            else:
                hf.config._attn_implementation = previous


def _quantize_onnx(src: Path, dest: Path) -> None:
    """Dynamic int8 quantisation (weights int8 per channel; activations quantised per batch).

    ``reduce_range`` keeps 7-bit weights: on CPUs without VNNI (AVX2 only) the u8 x s8
    multiply-add saturates otherwise."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _tmp(dest)
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, op_types_to_quantize=["MatMul", "Gemm"])
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _export_openvino(onnx_file: Path, dest: Path, int8: bool) -> None:
    import openvino as ov

    model = ov.convert_model(str(onnx_file))
    if int8:
        import nncf

        model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    tmp = _tmp(dest)
    tmp_bin = tmp.with_suffix(".bin")
    try:
        # float weights stay float32: fp16 storage is a second, unmeasured change
        ov.save_model(model, str(tmp), compress_to_fp16=False)
        os.replace(tmp_bin, dest.with_suffix(".bin"))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_bin.unlink(missing_ok=True)


def _encode(st_model: Any, items: Sequence[tuple[str, str]]) -> np.ndarray:
    out = []
    for kind, text in items:
        fn = st_model.encode_query if kind == "query" else st_model.encode_document
        kwargs = {} if kind == "query" else {"prompt": ""}
        out.append(fn([text], convert_to_numpy=True, normalize_embeddings=True, **kwargs)[0])
    return np.asarray(out, dtype=np.float32)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def read_marker(spec: BackendSpec, model_path: Path) -> dict[str, Any] | None:
    """The verification record of an export, or None when there is no usable export."""
    try:
        data = json.loads(spec.marker(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("export_version") != EXPORT_VERSION \
            or not spec.path(model_path).exists():
        return None
    return data


def ensure_export(spec: BackendSpec, model_path: Path, st_model: Any) -> dict[str, Any]:
    """Export (once) and verify the backend's files for the torch model ``st_model``, loaded in
    float32 from ``model_path``; returns the verification record."""
    found = read_marker(spec, model_path)
    if found is not None:
        return found
    t0 = time.perf_counter()
    folder = model_path / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    onnx_spec = SPECS["onnx"]
    onnx_file = onnx_spec.path(model_path)
    base_marker = onnx_spec.marker(model_path)
    stale = base_marker.exists() and read_marker(onnx_spec, model_path) is None
    if not onnx_file.exists() or stale:
        log.warning("exporting the embedder to ONNX in %s (once; about a minute)", folder)
        _export_onnx(st_model, onnx_file)
    if spec.name == "onnx-int8":
        _quantize_onnx(onnx_file, spec.path(model_path))
    elif spec.runtime == "openvino":
        _export_openvino(onnx_file, spec.path(model_path), spec.int8)
    export_s = time.perf_counter() - t0
    record = verify(spec, model_path, st_model)
    record["export_s"] = round(export_s, 1)
    tmp = _tmp(spec.marker(model_path))
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(tmp, spec.marker(model_path))
    return record


def verify(spec: BackendSpec, model_path: Path, st_model: Any) -> dict[str, Any]:
    """Load the export and compare its vectors with torch's on ``VERIFY_TEXTS``; raises when the
    export does not load or its vectors disagree."""
    reference = _encode(st_model, VERIFY_TEXTS)
    hf = st_model[0].model
    st_model[0].model = load_runtime(spec, spec.path(model_path), hf.config)
    try:
        got = _encode(st_model, VERIFY_TEXTS)
    finally:
        st_model[0].model = hf
    cos = cosines(reference, got)
    floor = MIN_COSINE_INT8 if spec.int8 else MIN_COSINE
    record = {"backend": spec.name, "export_version": EXPORT_VERSION,
              "cosine_min": round(float(cos.min()), 5), "cosine_mean": round(float(cos.mean()), 5),
              "floor": floor, "texts": len(VERIFY_TEXTS),
              "verified_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if not float(cos.min()) >= floor:
        raise RuntimeError(f"the {spec.name} export of the embedder disagrees with torch "
                           f"(cosine {cos.min():.4f} < {floor}); delete "
                           f"{spec.path(model_path).parent} to export again, or set "
                           "CLINCITE_EMBEDDER__BACKEND=torch")
    return record


def attach(spec: BackendSpec, model_path: Path, st_model: Any) -> dict[str, Any]:
    """Export and verify if needed, then run ``st_model``'s transformer on the backend. The torch
    transformer is dropped (its memory goes back)."""
    record = ensure_export(spec, model_path, st_model)
    config = st_model[0].model.config
    st_model[0].model = load_runtime(spec, spec.path(model_path), config)
    return record
