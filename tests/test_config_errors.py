"""Configuration mistakes are one line naming the variable, through the real CLI; `k` out of
range is an error at every entrance, never silently the default or "all but one"."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.errors import BadQuestionError, ConfigError


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("CLINCITE_ANSWER__PROMPT", "answer_v9",
     "error: CLINCITE_ANSWER__PROMPT='answer_v9': no prompt file prompts/answer_v9.yaml; use "
     "one of "),
    ("CLINCITE_ANSWER__CONDENSE_PROMPT", "condense_v7",
     "error: CLINCITE_ANSWER__CONDENSE_PROMPT='condense_v7': no prompt file"),
    ("CLINCITE_RETRIEVAL__FUSION", "bogus",
     "error: CLINCITE_RETRIEVAL__FUSION='bogus': Input should be 'dense', 'keyword', 'rrf' or "
     "'guarded'"),
    ("CLINCITE_RETRIEVAL__K", "abc", "error: CLINCITE_RETRIEVAL__K='abc': Input should be a "
                                     "valid integer"),
    ("CLINCITE_RETRIEVAL__K", "0", "error: CLINCITE_RETRIEVAL__K='0': Input should be greater "
                                   "than or equal to 1"),
    ("CLINCITE_STORE__BACKEND", "qdrant", "error: CLINCITE_STORE__BACKEND='qdrant' is not a "
                                          "vector store"),
    ("CLINCITE_STORE__RECORDS", "postgres", "error: CLINCITE_STORE__RECORDS='postgres' is not a "
                                            "record store: use sqlite"),
    ("CLINCITE_LLM__MODEL", "gpt", "error: CLINCITE_LLM__MODEL='gpt' is not a known model"),
])
def test_config_mistake_is_one_line_naming_the_variable(
        variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], settings: Settings, corpus: Path) -> None:
    from assistant.api import Assistant

    Assistant(settings).ingest([corpus])  # so the question gets as far as the setting
    monkeypatch.setenv(variable, value)
    assert main(["ask", "What is the ORR of ALTER-S004?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_several_mistakes_are_counted() -> None:
    with pytest.raises(ConfigError, match=r"^CLINCITE_RETRIEVAL__K=0: .* \(and 1 more\)$"):
        Settings(retrieval={"k": 0, "fusion": "x"})


@pytest.mark.parametrize("k", ["0", "-1", "51"])
def test_cli_k_out_of_range_is_an_error(k: str, settings: Settings, corpus: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.api import Assistant

    Assistant(settings).ingest([corpus])
    assert main(["ask", "What is the ORR of ALTER-S004?", "--k", k]) == 1
    assert capsys.readouterr().err.startswith(f"error: k={k} passages is not possible")


@pytest.mark.parametrize("k", [0, -1, 51, 2.5, True])
def test_retriever_refuses_k_out_of_range(k: object, settings: Settings, corpus: Path) -> None:
    from assistant.api import Assistant

    bot = Assistant(settings)
    bot.ingest([corpus])
    with pytest.raises(BadQuestionError, match="passages is not possible"):
        bot.retriever.retrieve("ORR of ALTER-S004", k=k)  # type: ignore[arg-type]
    assert len(bot.retriever.retrieve("ORR of ALTER-S004", k=2)) == 2
    assert len(bot.retriever.retrieve("ORR of ALTER-S004")) == settings.retrieval.k
