"""The prompt loader (prompts/__init__.py): versioned files, strict variables, content hash."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

import prompts
from prompts import PromptError, load_prompt

SHIPPED = sorted(p.stem for p in Path(prompts.__file__).parent.glob("*.yaml"))


@pytest.fixture
def prompt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Load prompts from a temporary folder instead of the package."""
    monkeypatch.setattr(prompts.resources, "files", lambda _pkg: tmp_path)
    load_prompt.cache_clear()
    yield tmp_path
    load_prompt.cache_clear()


def write(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.yaml").write_text(body, encoding="utf-8")


def test_every_shipped_prompt_loads_and_renders_with_its_variables() -> None:
    assert {"answer_v2", "condense_v1", "translate_v1"} <= set(SHIPPED)
    for name in SHIPPED:
        p = load_prompt(name)
        assert p.name == name
        assert p.variables
        values = {v: f"<{v}>" for v in p.variables}
        system, user = p.render(**values)
        for v in p.variables:
            assert f"<{v}>" in system + user, (name, v)
        assert len(p.sha) == 12


@pytest.mark.parametrize("values, message", [
    ({"question": "q"}, "missing ['target_language'], unknown []"),
    ({"question": "q", "target_language": "English", "tone": "kind"},
     "missing [], unknown ['tone']"),
    ({}, "missing ['question', 'target_language']"),
])
def test_render_rejects_missing_and_unknown_variables(values, message) -> None:
    with pytest.raises(PromptError) as err:
        load_prompt("translate_v1").render(**values)
    assert message in str(err.value)
    assert "translate_v1" in str(err.value)


def test_render_fills_the_templates() -> None:
    system, user = load_prompt("translate_v1").render(question="ORR是多少?",
                                                      target_language="English")
    assert user == "Translate into English:\nORR是多少?"
    assert "Output only the translation." in system


@pytest.mark.parametrize("name", ["answer_v9", "../pyproject", "nope"])
def test_unknown_prompt_version_is_an_error(name: str) -> None:
    with pytest.raises(PromptError, match=f"no prompt file prompts/{name}.yaml"):
        load_prompt(name)


@pytest.mark.parametrize("body, problem", [
    # a variable used but not declared
    ("variables: [question]\nsystem: Be brief.\nuser: '{question} in {language}'\n",
     "declares ['question'] but uses ['language', 'question']"),
    # declared but never used
    ("variables: [question, passages]\nsystem: Be brief.\nuser: '{question}'\n",
     "declares ['passages', 'question'] but uses ['question']"),
    # no declaration at all
    ("system: Be brief.\nuser: '{question}'\n", "declares [] but uses ['question']"),
    # a misspelt key is no declaration either
    ("varaibles: [question]\nsystem: Be brief.\nuser: '{question}'\n",
     "declares [] but uses ['question']"),
])
def test_malformed_prompt_file_is_rejected(prompt_dir: Path, body: str, problem: str) -> None:
    write(prompt_dir, "bad_v1", body)
    with pytest.raises(PromptError, match="prompt bad_v1: ") as err:
        load_prompt("bad_v1")
    assert problem in str(err.value)


def test_hash_follows_the_text(prompt_dir: Path) -> None:
    body = "name: p_v1\nvariables: [question]\nsystem: Be brief.\nuser: '{question}'\n"
    write(prompt_dir, "p_v1", body)
    first = load_prompt("p_v1")
    assert first.system == "Be brief." and first.variables == frozenset({"question"})
    load_prompt.cache_clear()
    write(prompt_dir, "p_v1", body.replace("Be brief.", "Be very brief."))
    second = load_prompt("p_v1")
    assert second.sha != first.sha
    load_prompt.cache_clear()
    write(prompt_dir, "p_v1", body)
    assert load_prompt("p_v1").sha == first.sha


def test_the_package_loader_is_the_one_patched() -> None:
    # guards the fixture: prompts reads its files through importlib.resources
    assert prompts.resources is resources
