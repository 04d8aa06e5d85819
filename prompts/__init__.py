"""Versioned prompt files (``prompts/<name>.yaml``) and a strict loader.

A prompt declares its variables; rendering with a missing or an unknown variable is an error,
and every prompt carries a content hash that is recorded with each answer, so a changed prompt
is visible in eval results.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


class PromptError(ValueError):
    """A prompt file is malformed or rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str
    variables: frozenset[str]
    sha: str

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with every declared variable filled; nothing else accepted."""
        given = set(values)
        missing = self.variables - given
        unknown = given - self.variables
        if missing or unknown:
            raise PromptError(f"prompt {self.name}: missing {sorted(missing)}, unknown "
                              f"{sorted(unknown)}")
        return self.system.format(**values), self.user.format(**values)


def _fields(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@cache
def load_prompt(name: str) -> Prompt:
    try:
        raw = resources.files("prompts").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PromptError(f"no prompt file prompts/{name}.yaml") from exc
    data = yaml.safe_load(raw)
    declared = set(data.get("variables") or [])
    used = _fields(data["system"]) | _fields(data["user"])
    if used != declared:
        raise PromptError(f"prompt {name}: declares {sorted(declared)} but uses {sorted(used)}")
    sha = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]
    return Prompt(name=data.get("name", name), system=data["system"].strip(),
                  user=data["user"].strip(), variables=frozenset(declared), sha=sha)
