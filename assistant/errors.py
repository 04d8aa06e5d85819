"""ClinCite's own errors. Each message is one line that says what to do next.

The API raises these; the CLI prints ``error: <message>`` and exits non-zero; the UI shows it.
"""

from __future__ import annotations


class ClinCiteError(Exception):
    """Base class: a problem the user can fix, explained in one line."""

    exit_code = 1


class ConfigError(ClinCiteError):
    """A setting is missing or wrong."""


class ModelNotFoundError(ClinCiteError):
    """A model file or folder is not on disk."""


class ModelFetchError(ClinCiteError):
    """Assembling a default model from its PyPI packages failed."""


class EndpointError(ClinCiteError):
    """An OpenAI-compatible endpoint could not be reached or answered badly."""


class IngestError(ClinCiteError):
    """One input file could not be ingested; other files are unaffected."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class EmptyIndexError(ClinCiteError):
    """Nothing has been ingested into the index in use."""


class StoreBusyError(ClinCiteError):
    """Another process holds the index for writing."""


class BadQuestionError(ClinCiteError):
    """The question cannot be asked as given (e.g. empty)."""


class DocumentNotFoundError(ClinCiteError):
    """A document id that is not in the index."""
