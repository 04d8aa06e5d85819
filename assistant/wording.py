"""Wording every interface shows the same way (CLI, app, HTTP API): one copy, in the core, so
no interface imports another to reuse a sentence."""

from __future__ import annotations

DISCLAIMER = ("Information from the indexed documents only, not medical advice; check the quoted "
              "sources. / 仅基于已收录文献的信息,不构成医疗建议,请核对引用原文。")
