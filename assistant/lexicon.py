"""The bilingual measure / unit / entity lexicon (``assistant/data/lexicon.yaml``) and the pure
functions that find its terms in text. Data lives in the YAML file, not in regexes here: a new
measure, unit or drug is one line there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

_LATIN_RE = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Mention:
    """A lexicon term found in a text: ``key`` is the canonical entry, [start, end) its span."""

    key: str
    start: int
    end: int


@dataclass(frozen=True)
class Table:
    """One section of the lexicon, compiled: aliases -> canonical keys, longest alias first."""

    keys: dict[str, str]  # lower-cased alias -> key
    pattern: re.Pattern[str]
    generic: frozenset[str] = frozenset()

    def find(self, text: str) -> list[Mention]:
        """Non-overlapping mentions, leftmost-longest."""
        return [Mention(self.keys[m.group(0).lower()], m.start(), m.end())
                for m in self.pattern.finditer(text)]

    def keys_in(self, text: str) -> set[str]:
        return {m.key for m in self.find(text)}

    def aliases(self, key: str) -> list[str]:
        return [a for a, k in self.keys.items() if k == key]


def _alias_regex(alias: str, glued: bool = False) -> str:
    body = re.escape(alias)
    if glued and _LATIN_RE.search(alias):  # a unit may follow its digits: 1000mg, 4mCi
        return rf"{body}(?![A-Za-z])"
    if _LATIN_RE.search(alias):
        # whole words only; "PD" is not the start of "PD-1" and "OS" not part of "dose"
        return rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9]|-[A-Za-z0-9])"
    return body


def _table(section: dict, glued: bool = False) -> Table:
    keys: dict[str, str] = {}
    generic: set[str] = set()
    for key, value in section.items():
        aliases = value
        if isinstance(value, dict):
            aliases = value.get("aliases", [])
            if value.get("generic"):
                generic.add(key)
        for alias in aliases:
            keys[str(alias).lower()] = key
    ordered = sorted(keys, key=len, reverse=True)
    pattern = re.compile("|".join(_alias_regex(a, glued) for a in ordered), re.IGNORECASE)
    return Table(keys=keys, pattern=pattern, generic=frozenset(generic))


@dataclass(frozen=True)
class Lexicon:
    measures: Table
    units: Table
    entities: Table
    arms: frozenset[str] = frozenset()  # entity keys that are study arms
    tumours: frozenset[str] = frozenset()  # entity keys that are tumours / populations
    populations: Table | None = None  # which patients of a study (treatment-naive, relapsed)
    sites: Table | None = None  # where in the body (spine, pelvis, lung)
    # population key -> its axis ("treatment_naive" -> "line"): one axis's populations exclude
    # each other, another axis's do not
    population_axes: dict[str, str] = field(default_factory=dict)
    # unit key -> the measure a value in that unit is of ("mg": dose, "mm": size)
    unit_measures: dict[str, str] = field(default_factory=dict)
    terms: Table | None = None  # words matched across languages that bind no number (腹泻)
    cues: Table | None = None  # what else a question asks about (定义 = defined as): evidence only
    directions: Table | None = None  # which way a comparison goes (更低 = lower)
    negations: Table | None = None  # a finding stated as not so (未见 = not observed)

    def units_of(self, measure: str) -> frozenset[str]:
        """The units whose values are values of ``measure`` (``unit_measures``)."""
        return frozenset(u for u, m in self.unit_measures.items() if m == measure)

    def strict_measures(self, text: str) -> list[Mention]:
        """Measures that bind a number (not the generic 'proportion' / 'risk')."""
        return [m for m in self.measures.find(text) if m.key not in self.measures.generic]

    def unit_at(self, text: str, pos: int) -> tuple[str, int] | None:
        """The unit starting at ``pos`` (after optional spaces): (key, end) or None."""
        i = pos
        while i < len(text) and text[i] in " \u00a0\t":
            i += 1
        m = self.units.pattern.match(text, i)
        if not m:
            return None
        return self.units.keys[m.group(0).lower()], m.end()


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = resources.files("assistant").joinpath("data/lexicon.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw)

    def optional(name: str) -> Table | None:
        return _table(data[name]) if data.get(name) else None

    return Lexicon(measures=_table(data["measures"]), units=_table(data["units"], glued=True),
                   entities=_table(data["entities"]), arms=frozenset(data.get("arms", [])),
                   tumours=frozenset(data.get("tumours", [])),
                   populations=optional("populations"),
                   sites=optional("sites"),
                   population_axes={p: axis for axis, keys in
                                    (data.get("population_axes") or {}).items() for p in keys},
                   unit_measures={unit: measure for measure, units in
                                  (data.get("unit_measures") or {}).items() for unit in units},
                   terms=optional("terms"),
                   cues=optional("cues"),
                   directions=optional("directions"),
                   negations=optional("negations"))

# a biomarker named between the level and "expression": "low CDK4 expression", "CDK4低表达"
_MARKER_LEVEL_RE = re.compile(r"\b(?P<level>low|high|over|under)[- ](?:[A-Za-z0-9/-]{2,12} )?"
                              r"expression\b|[A-Za-z0-9/-]{2,12}-(?P<tail>low|high)\b",
                              re.IGNORECASE)


def populations_in(text: str) -> set[str]:
    """The patient populations ``text`` names ("初治" -> treatment_naive; "low CDK4 expression"
    -> low_expression)."""
    table = lexicon().populations
    found = table.keys_in(text) if table else set()
    for m in _MARKER_LEVEL_RE.finditer(text):
        level = (m.group("level") or m.group("tail")).lower()
        found.add("low_expression" if level in ("low", "under") else "high_expression")
    return found


def populations_in_order(text: str) -> list[str]:
    """The populations ``text`` names, in the order it first names them ("初治患者和复发难治患者"
    -> [treatment_naive, relapsed])."""
    table = lexicon().populations
    mentions = [(m.start, m.key) for m in table.find(text)] if table else []
    for m in _MARKER_LEVEL_RE.finditer(text):
        level = (m.group("level") or m.group("tail")).lower()
        mentions.append((m.start(), "low_expression" if level in ("low", "under")
                         else "high_expression"))
    out: list[str] = []
    for _, key in sorted(mentions):
        if key not in out:
            out.append(key)
    return out


def population_axis(population: str) -> str:
    """The axis ``population`` lies on ("relapsed" -> "line"); a population of no listed axis
    is an axis of its own."""
    return lexicon().population_axes.get(population, population)


def on_axes(stated: set[str], asked: set[str]) -> set[str]:
    """The populations of ``stated`` on an axis ``asked`` names: "初治" says nothing about the
    stage a question on metastatic patients asks."""
    axes = {population_axis(p) for p in asked}
    return {p for p in stated if population_axis(p) in axes}


def pooled(populations: set[str], respective: bool) -> bool:
    """One figure given for two or more ``populations`` of one axis together ("在62例初治和复发的
    患者中,DCR为26%", no "分别"): the figure of neither."""
    if respective:
        return False
    axes = [population_axis(p) for p in populations]
    return len(axes) != len(set(axes))


def subpopulation(stated: set[str], study: set[str]) -> bool:
    """A figure of some of a study's populations: the study names two or more on one axis
    ("62例初治和复发的患者"), the figure's clause fewer of them ("在初次治疗的ES患者,ORR为25%").
    It answers no question about all the study's patients."""
    for axis in {population_axis(p) for p in stated}:
        of_axis = {p for p in study if population_axis(p) == axis}
        if len(of_axis) >= 2 and 0 < len(stated & of_axis) < len(of_axis):
            return True
    return False


def sites_in(text: str) -> set[str]:
    """The body sites ``text`` names ("好发于腰骶椎、骨盆" -> {spine, pelvis})."""
    table = lexicon().sites
    return table.keys_in(text) if table else set()


def population_conflict(asked: set[str], stated: set[str]) -> bool:
    """A sentence about only other patients than those asked about, on an axis the question
    names ("复发" for "初治"; "初治" is no conflict for "转移性")."""
    stated = on_axes(stated, asked)
    return bool(asked and stated and not asked & stated)


def other_population(asked: set[str], stated: set[str]) -> bool:
    """A sentence that names other patients than those asked about, alone or with them
    ("62例初治和复发的患者": not the relapsed patients' own figure). Stricter than
    ``population_conflict``, which the checker applies per clause, where "初治和复发患者的ORR
    分别为…" may still bind one of a respective pair; a quote has no such pairing."""
    return bool(asked and on_axes(stated, asked) - asked)


# a drug misspelt in a question ("多肉比星" for 多柔比星, "anlotnib"): one character off a
# lexicon name of at least this many characters (CJK) / letters (Latin) is that name
_SPELL_MIN_CJK = 4
_SPELL_MIN_LATIN = 7
_CJK_WORD_RE = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")


@lru_cache(maxsize=1)
def _spellings() -> tuple[dict[str, str | None], list[str]]:
    """(CJK alias with one character masked -> the alias, None where two names share the mask;
    the Latin one-word names), from the lexicon's entities."""
    masked: dict[str, str | None] = {}
    latin: list[str] = []
    for alias in lexicon().entities.keys:
        if _CJK_WORD_RE.fullmatch(alias) and len(alias) >= _SPELL_MIN_CJK:
            for i in range(len(alias)):
                key = alias[:i] + "\0" + alias[i + 1:]
                masked[key] = alias if masked.get(key, alias) == alias else None
        elif _LATIN_WORD_RE.fullmatch(alias) and len(alias) >= _SPELL_MIN_LATIN:
            latin.append(alias)
    return masked, latin


def _one_edit(a: str, b: str) -> bool:
    """``a`` and ``b`` differ by one substitution, insertion, deletion or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return (a[i + 1:] == b[i + 1:] or a[i:] == b[i + 1:] or a[i + 1:] == b[i:] or
            (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
             and a[i + 2:] == b[i + 2:]))


def spell_names(text: str) -> str:
    """``text`` with each misspelt drug, tumour or trial arm written as the lexicon writes it:
    a run of CJK characters one character off a name of at least four ("多肉比星" ->
    "多柔比星"), a Latin word one edit off a one-word name of at least seven letters
    ("anlotnib" -> "anlotinib"). A name the lexicon lists is left as is, with the characters
    next to it ("19例骨肉瘤" is no misspelt 软骨肉瘤; 表柔比星, one off 多柔比星, is
    epirubicin), and so is a misspelling two names are equally near. Used on questions only.
    Pure."""
    lex = lexicon()
    masked, latin = _spellings()
    # a window over a name any section lists is no misspelling ("19例骨肉瘤" holds 骨肉瘤, not
    # a misspelt 软骨肉瘤)
    known = [(m.start, m.end) for table in (lex.entities, lex.measures, lex.populations,
                                            lex.sites) if table is not None
             for m in table.find(text)]

    def free(a: int, b: int) -> bool:
        return not any(a < e and s < b for s, e in known)

    edits: list[tuple[int, int, str]] = []
    lengths = sorted({len(k) for k in masked}, reverse=True)
    for run in _CJK_WORD_RE.finditer(text):
        pos = run.start()
        while pos < run.end():
            hit: tuple[int, int, str] | None = None
            for n in lengths:
                window = text[pos:pos + n]
                if len(window) < n or pos + n > run.end() or not free(pos, pos + n):
                    continue
                names = {name for i in range(n)
                         if (name := masked.get(window[:i] + "\0" + window[i + 1:]))}
                if len(names) == 1:
                    hit = (pos, pos + n, names.pop())
                    break
            if hit:
                edits.append(hit)
                pos = hit[1]
            else:
                pos += 1
    for word in _LATIN_WORD_RE.finditer(text):
        w = word.group(0)
        if len(w) < _SPELL_MIN_LATIN - 1 or not free(word.start(), word.end()):
            continue
        near = {a for a in latin if _one_edit(w.lower(), a.lower())}
        if len(near) == 1:
            edits.append((word.start(), word.end(), near.pop()))
    for a, b, name in sorted(edits, reverse=True):
        text = text[:a] + name + text[b:]
    return text
