"""Which torch dtype encodes faster on this machine: decided by measuring, not by CPU flags.

CPU flags cannot tell: on an AMD EPYC with native bf16 bfloat16 encoded 2.7x faster than
float32, on an Intel Xeon with AVX512-BF16 (no AMX) it was 1.47x *slower*. So on first load the
embedder times a few batches in each candidate dtype (``measure_dtypes``), keeps the faster
(``choose_dtype``: ties go to float32, the reference precision) and caches the decision in a JSON
file keyed by the CPU model, its flags and the library versions (``machine_key``). A missing,
corrupt or unreadable cache is measured again, never a crash; ``CLINCITE_EMBEDDER__DTYPE`` set to
a dtype skips all of this. Vectors of either dtype agree (cosine >= 0.999), so the index does
not depend on the choice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16")
# A candidate must beat float32 by more than this share to be chosen: closer than that is
# within run-to-run noise on a shared 2-core machine, and float32 is the reference precision.
TIE = 0.05
CACHE_VERSION = 1
CACHE_NAME = "embedder_calibration.json"
WARMUP_TEXTS = 2  # the warm-up batch: the two shortest calibration texts' worth of work
SKIP_AFTER_WARMUP = 3.0  # a dtype whose warm-up takes this many times float32's is not timed

# Passages shaped like the index's embedding texts (titled, ~400-700 weighted characters,
# Chinese and English), so the timing reflects real batches rather than short strings.
_EN = ("Denosumab delayed the first skeletal-related event compared with zoledronic acid in "
       "patients with bone metastases from solid tumours. Hypocalcaemia occurred in 9.6% of "
       "patients and osteonecrosis of the jaw in 1.8%. Calcium and vitamin D supplements are "
       "recommended unless hypercalcaemia is present. Stereotactic body radiotherapy of 24 Gy in "
       "two fractions improved local control of painful spinal metastases. ")
_ZH = ("安罗替尼联合化疗治疗晚期骨肉瘤的客观缓解率为28.57%，中位无进展生存期为6.1个月。乳腺癌骨转移"
       "以溶骨性病变为主，地舒单抗可延迟首次骨相关事件。常见不良反应包括高血压、手足综合征和蛋白尿，"
       "多数为1至2级，可通过减量处理。")
CALIBRATION_TEXTS: tuple[str, ...] = tuple(
    f"title: {title} | text: {(body * 3)[:length]}"
    for title, body, length in [
        ("Bone metastases", _EN, 700), ("骨肉瘤", _ZH, 330), ("Soft-tissue sarcoma", _EN, 520),
        ("乳腺癌骨转移", _ZH, 260), ("Radiotherapy", _EN, 640), ("靶向治疗", _ZH, 350),
        ("Osteosarcoma trial", _EN, 450), ("不良反应", _ZH, 300),
    ]
)


def choose_dtype(seconds: Mapping[str, float], tie: float = TIE) -> str:
    """The dtype to use given the seconds each took for the same work (lower is faster).

    float32 is kept unless another dtype is more than ``tie`` faster; missing, zero, negative
    or non-finite timings (a dtype that failed to load or run) never win."""
    valid = {k: v for k, v in seconds.items() if isinstance(v, (int, float))
             and math.isfinite(v) and v > 0}
    if not valid:
        return "float32"
    best = min(valid, key=lambda k: (valid[k], k != "float32"))
    if "float32" in valid and valid["float32"] <= valid[best] * (1 + tie):
        return "float32"
    return best


def _cpu_info() -> tuple[str, list[str]]:
    model, flags = "unknown", list[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith(("flags", "Features")) and not flags:
                    flags = sorted(set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    if model == "unknown":
        import platform

        model = platform.processor() or platform.machine() or "unknown"
    return model, flags


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def machine_key(model_name: str, *, cpu: str | None = None, flags: Sequence[str] | None = None,
                versions: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a measurement depends on: the CPU model, a hash of its flags, the core count, the
    torch and sentence-transformers versions, and the model. Another value of any of them
    means another measurement."""
    if cpu is None or flags is None:
        found_cpu, found_flags = _cpu_info()
        cpu = found_cpu if cpu is None else cpu
        flags = found_flags if flags is None else flags
    if versions is None:
        versions = {p: _version(p) for p in ("torch", "sentence-transformers")}
    flags_hash = hashlib.sha256(" ".join(sorted(flags)).encode()).hexdigest()[:12]
    return {"cpu": cpu, "flags": flags_hash, "cores": str(os.cpu_count() or 1),
            "model": model_name, **{k: str(v) for k, v in sorted(versions.items())}}


def key_id(key: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(key), sort_keys=True).encode()).hexdigest()[:16]


def read_entry(cache: Path, key: Mapping[str, str], valid: Callable[[Mapping[str, Any]], bool],
               version: int = CACHE_VERSION) -> dict[str, Any] | None:
    """The entry cached for ``key`` in a measured-decision cache file (``{"version", "entries":
    {key_id: entry}}``), or None: no file, unreadable, corrupt, another version or key, or an
    entry ``valid`` rejects."""
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        entry = data["entries"][key_id(key)]
        if data.get("version") != version or not valid(entry):
            return None
        return dict(entry)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_entry(cache: Path, key: Mapping[str, str], entry: Mapping[str, Any], what: str,
                version: int = CACHE_VERSION) -> bool:
    """Record ``entry`` (with the key and the time) beside the others, by atomic replace; False
    when it could not be written (a read-only models folder is no reason to fail: the next load
    measures again). ``what`` names the decision in the warning."""
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != version \
                or not isinstance(data.get("entries"), dict):
            raise ValueError("not a measured-decision cache")
    except (OSError, ValueError):
        data = {"version": version, "entries": {}}
    data["entries"][key_id(key)] = {
        **entry, "key": dict(key),
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, cache)
        return True
    except OSError as exc:
        log.warning("could not cache the %s in %s: %s", what, cache, exc)
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        return False


def read_decision(cache: Path, key: Mapping[str, str]) -> dict[str, Any] | None:
    """The cached dtype decision for this key, or None (see ``read_entry``)."""
    return read_entry(cache, key, lambda entry: entry.get("dtype") in DTYPES)


def write_decision(cache: Path, key: Mapping[str, str], dtype: str,
                   seconds: Mapping[str, float],
                   warmup: Mapping[str, float] | None = None) -> bool:
    """Record a dtype decision beside the others (see ``write_entry``)."""
    return write_entry(cache, key, {
        "dtype": dtype, "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "warmup_s": {k: round(v, 4) for k, v in (warmup or {}).items()},
    }, "embedder dtype decision")


def time_batches(encode: Callable[[list[str]], Any], texts: Sequence[str], *,
                 batch: int = 8, repeats: int = 3, give_up_after: float | None = None) -> float:
    """Median seconds of one batch of ``texts[:batch]`` over ``repeats`` batches.

    A batch slower than ``give_up_after`` ends the timing at once: that candidate has lost
    already, and an emulated dtype can be several times slower (no need to wait for it)."""
    chunk = list(texts[:batch])
    times: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        encode(chunk)
        times.append(time.perf_counter() - t0)
        if give_up_after is not None and times[-1] > give_up_after:
            return times[-1]
    return statistics.median(times)


def resolve_dtype(load: Callable[[str], Any], encode: Callable[[Any, list[str]], Any],
                  cache: Path, key: Mapping[str, str], *,
                  texts: Sequence[str] = CALIBRATION_TEXTS, repeats: int = 3
                  ) -> tuple[Any, str, dict[str, Any]]:
    """The loaded model in the faster dtype on this machine, its dtype, and how it was decided.

    ``load(dtype)`` builds a model, ``encode(model, texts)`` runs one batch. A cached decision
    loads one model and measures nothing. Otherwise each dtype in turn is loaded, warmed up on
    ``WARMUP_TEXTS`` texts and timed on ``repeats`` batches of 8; a dtype whose warm-up already
    takes ``SKIP_AFTER_WARMUP`` times float32's is not timed (emulated bfloat16 is ~6x slower
    on an AVX2-only CPU: timing it would cost a minute for a foregone result). The loser is
    dropped as soon as it loses, so at most two copies are ever loaded."""
    cached = read_decision(cache, key)
    if cached is not None:
        return load(cached["dtype"]), cached["dtype"], {"source": "cache", **cached}
    models: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    warmup: dict[str, float] = {}
    for dtype in DTYPES:
        try:
            model = load(dtype)
            t0 = time.perf_counter()
            encode(model, list(texts[:WARMUP_TEXTS]))
            warm = time.perf_counter() - t0
            reference = min(warmup.values(), default=None)
            warmup[dtype] = warm
            if reference is not None and warm > SKIP_AFTER_WARMUP * reference:
                log.info("embedder calibration: %s warm-up %.1fx the first dtype's: not timed",
                         dtype, warm / reference)
                del model
                continue
            best = min(seconds.values(), default=None)
            def run(t: Sequence[str], m: Any = model) -> Any:
                return encode(m, list(t))

            seconds[dtype] = time_batches(run, texts,
                                          repeats=repeats,
                                          give_up_after=None if best is None else 1.5 * best)
        except Exception as exc:  # noqa: BLE001 - a dtype that cannot run here just loses
            log.warning("embedder calibration: %s failed here (%s)", dtype, exc)
            continue
        # keep only the best so far: two copies of the model would double the peak memory
        if not models or choose_dtype(seconds) == dtype:
            models = {dtype: model}
        del model
    if not models:
        raise RuntimeError("the embedder could not be loaded in any dtype")
    dtype = choose_dtype(seconds)
    write_decision(cache, key, dtype, seconds, warmup)
    log.info("embedder calibration: %s (seconds per batch %s)", dtype, seconds)
    return models[dtype], dtype, {"source": "measured", "dtype": dtype, "seconds": seconds,
                                  "warmup_s": warmup}
