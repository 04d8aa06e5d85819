"""Retrieval fusion (assistant/retrieval.py): which passage ranks where, for each fusion.

The store and the embedder are stand-ins whose cosines and keyword hits are written down in
each case, so every expected order below can be checked by hand: the cosine ranks, BM25 adds a
bonus of ``weight x hits / best hits``, exact terms may move a passage across languages, and
in-language BM25 may only reorder passages within the places its language already holds.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pytest

from assistant.config import Settings
from assistant.errors import BadQuestionError
from assistant.models import Embedder
from assistant.retrieval import (
    MAX_K,
    Retriever,
    anchor_terms,
    check_k,
    language_slots,
    rrf,
    score_fusion,
)
from assistant.types import RetrievedChunk
from ingest.keywords import tokenize

# -- stand-ins ---------------------------------------------------------------------------------


def chunk(cid: str, language: str, text: str = "", *, dense: float | None = None,
          bm25: float | None = None) -> RetrievedChunk:
    return RetrievedChunk(chunk_id=cid, doc_id=f"{cid}.txt", title=cid, text=text or cid,
                          start=0, end=len(text or cid), language=language, dense_score=dense,
                          keyword_score=bm25)


class OneVector(Embedder):
    """Every question is the same unit vector; the store decides the cosines."""

    name = "one-vector"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.kinds: list[str] = []

    def embed(self, texts: Sequence[str], *, kind: str) -> np.ndarray:
        self.calls.append(list(texts))
        self.kinds.append(kind)
        return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))


class TableStore:
    """Cosines from a table; BM25 = occurrences of the query tokens in the lower-cased text.
    Both searches keep to a language filter; ``vectorless`` passages have no stored vector."""

    def __init__(self, passages: dict[str, tuple[str, str, float]],
                 vectorless: Sequence[str] = ()) -> None:
        # chunk_id -> (language, text, cosine with every question)
        self.passages = passages
        self.vectorless = set(vectorless)
        self.keyword_calls: list[tuple[list[str], dict | None]] = []

    def _make(self, cid: str, **scores: float) -> RetrievedChunk:
        language, text, _ = self.passages[cid]
        return chunk(cid, language, text, **scores)

    def dense_search(self, vector: np.ndarray, k: int, filters=None) -> list[RetrievedChunk]:
        langs = (filters or {}).get("language")
        ranked = sorted((c for c, (language, _, _) in self.passages.items()
                         if not langs or language in langs), key=lambda c: -self.passages[c][2])
        return [self._make(c, dense=self.passages[c][2]) for c in ranked[:k]]

    def keyword_search(self, tokens: Sequence[str], k: int, filters=None
                       ) -> list[RetrievedChunk]:
        self.keyword_calls.append((list(tokens), filters))
        langs = (filters or {}).get("language")
        hits = []
        for cid, (language, text, _) in self.passages.items():
            if langs and language not in langs:
                continue
            n = sum(text.lower().count(t) for t in tokens)
            if n:
                hits.append((cid, float(n)))
        hits.sort(key=lambda h: -h[1])
        return [self._make(c, bm25=n) for c, n in hits[:k]]

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {c: np.array([self.passages[c][2], 0.0], dtype=np.float32) for c in chunk_ids
                if c not in self.vectorless}


def retrieve_chunks(passages: dict[str, tuple[str, str, float]], question: str, fusion: str,
                    filters: dict | None = None, vectorless: Sequence[str] = (),
                    **retrieval: float) -> list[RetrievedChunk]:
    settings = Settings(retrieval={"fusion": fusion, **retrieval})
    store = TableStore(passages, vectorless)
    return Retriever(settings, OneVector(), store).retrieve(question, filters=filters,
                                                            k=len(passages))


def retrieve(passages: dict[str, tuple[str, str, float]], question: str, fusion: str,
             filters: dict | None = None, **retrieval: float) -> list[str]:
    return [c.chunk_id for c in retrieve_chunks(passages, question, fusion, filters,
                                                **retrieval)]


# -- the cases ---------------------------------------------------------------------------------

# A Chinese question; the best passage by meaning is English. Chinese BM25 favours the two
# Chinese passages, enough to lift either above the English one if it could (0.49 + 0.05).
CROSS_LINGUAL = {
    "en_orr": ("en", "Anlotinib gave an objective response rate of 10.13%.", 0.50),
    "zh_orr": ("zh", "安罗替尼的客观缓解率为10.13%。", 0.47),
    "zh_more": ("zh", "安罗替尼的客观缓解率：安罗替尼联合化疗的客观缓解率更高。", 0.46),
    "en_far": ("en", "Denosumab delays skeletal-related events.", 0.20),
}
ZH_QUESTION = "安罗替尼的客观缓解率是多少?"

# A Chinese question naming a trial: the English passage that carries the trial id is a near-tie
# with an unrelated Chinese passage; the exact term decides.
TRIAL_ID = {
    "zh_other": ("zh", "骨肉瘤患者的总生存期较长。", 0.41),
    "en_trial": ("en", "In ALTER-S004 the ORR was 10.13%.", 0.40),
    "en_far": ("en", "Denosumab delays skeletal-related events.", 0.10),
}
TRIAL_QUESTION = "ALTER-S004研究的ORR是多少?"


@pytest.mark.parametrize("passages, question, fusion, expected", [
    # dense: the cosine alone
    (CROSS_LINGUAL, ZH_QUESTION, "dense", ["en_orr", "zh_orr", "zh_more", "en_far"]),
    (TRIAL_ID, TRIAL_QUESTION, "dense", ["zh_other", "en_trial", "en_far"]),
    # keyword: BM25 alone; only passages with a hit come back, most hits first
    (CROSS_LINGUAL, ZH_QUESTION, "keyword", ["zh_more", "zh_orr"]),
    (TRIAL_ID, TRIAL_QUESTION, "keyword", ["en_trial"]),
    # rrf: 1/(60+rank) per ranking, keyword ranking weighted 0.05; a passage in both wins a
    # near-tie: en_trial 1/62 + 0.05/61 > zh_other 1/61
    (TRIAL_ID, TRIAL_QUESTION, "rrf", ["en_trial", "zh_other", "en_far"]),
    # rrf has no language slots: Chinese BM25 lifts both Chinese passages over en_orr (1/61):
    # zh_orr 1/62 + 0.05/62, zh_more 1/63 + 0.05/61
    (CROSS_LINGUAL, ZH_QUESTION, "rrf", ["zh_orr", "zh_more", "en_orr", "en_far"]),
    # guarded, anchor bonus: the trial id moves the English passage over the Chinese near-tie
    (TRIAL_ID, TRIAL_QUESTION, "guarded", ["en_trial", "zh_other", "en_far"]),
    # guarded, language slots: English keeps first place (cosine 0.50) although Chinese BM25
    # lifts zh_orr to 0.47 + 0.05 x 4/8 and zh_more to 0.46 + 0.05 x 8/8; within the Chinese places
    # BM25 reorders: zh_more (8 hits) before zh_orr (4 hits)
    (CROSS_LINGUAL, ZH_QUESTION, "guarded", ["en_orr", "zh_more", "zh_orr", "en_far"]),
], ids=["dense-cross-lingual", "dense-trial-id", "keyword-cross-lingual", "keyword-trial-id",
        "rrf-trial-id", "rrf-cross-lingual", "guarded-anchor", "guarded-language-slots"])
def test_fusion_order(passages, question, fusion, expected) -> None:
    assert retrieve(passages, question, fusion) == expected


@pytest.mark.parametrize("fusion, expected", [
    # the cosine's reciprocal rank, weight 1; the keyword ranking (zh_more 8 hits, zh_orr 4)
    # adds keyword_weight 0.05 over its own rank
    ("rrf", {"zh_orr": 1 / 62 + 0.05 / 62, "zh_more": 1 / 63 + 0.05 / 61, "en_orr": 1 / 61,
             "en_far": 1 / 64}),
    # keyword alone: its ranking has the full weight, 1 / (60 + rank)
    ("keyword", {"zh_more": 1 / 61, "zh_orr": 1 / 62}),
])
def test_rank_fusion_scores(fusion: str, expected: dict[str, float]) -> None:
    got = retrieve_chunks(CROSS_LINGUAL, ZH_QUESTION, fusion)
    assert [c.chunk_id for c in got] == list(expected)
    assert {c.chunk_id: c.score for c in got} == pytest.approx(expected)


def test_chinese_question_keeps_an_english_passage_slot() -> None:
    # the README's cross-lingual fix: Chinese BM25 alone would push English out of the top 2
    fused_without_slots = ["zh_more", "zh_orr"]
    got = retrieve(CROSS_LINGUAL, ZH_QUESTION, "guarded")
    assert got[:2] != fused_without_slots
    assert got[0] == "en_orr"
    assert [CROSS_LINGUAL[c][0] for c in got] == ["en", "zh", "zh", "en"]


@pytest.mark.parametrize("anchor_weight, expected_first", [(0.05, "en_trial"), (0.0, "zh_other")])
def test_anchor_weight_is_the_bonus(anchor_weight: float, expected_first: str) -> None:
    got = retrieve(TRIAL_ID, TRIAL_QUESTION, "guarded", anchor_weight=anchor_weight)
    assert got[0] == expected_first


@pytest.mark.parametrize("keyword_weight, expected", [
    (0.05, ["en_orr", "zh_more", "zh_orr", "en_far"]),
    (0.0, ["en_orr", "zh_orr", "zh_more", "en_far"]),  # no bonus: the cosine orders Chinese too
])
def test_keyword_weight_reorders_within_language(keyword_weight: float, expected) -> None:
    assert retrieve(CROSS_LINGUAL, ZH_QUESTION, "guarded", keyword_weight=keyword_weight) == \
        expected


def test_k_cuts_after_fusion_and_scores_are_the_fused_ones() -> None:
    settings = Settings(retrieval={"fusion": "guarded", "k": 2})
    got = Retriever(settings, OneVector(), TableStore(TRIAL_ID)).retrieve(TRIAL_QUESTION)
    assert [c.chunk_id for c in got] == ["en_trial", "zh_other"]
    # en_trial: cosine 0.40 + anchor 0.05 x 1/1; zh_other: cosine only
    assert got[0].score == pytest.approx(0.45)
    assert got[1].score == pytest.approx(0.41)
    assert got[0].dense_score == pytest.approx(0.40)


def test_guarded_searches_same_language_and_anchors_separately() -> None:
    store = TableStore(TRIAL_ID)
    Retriever(Settings(), OneVector(), store).retrieve(TRIAL_QUESTION, k=3)
    same, anchors = store.keyword_calls
    assert same[1] == {"language": ["zh"]}
    assert anchors == (["alter-s004", "orr"], None)


def test_guarded_same_language_search_respects_a_language_filter() -> None:
    store = TableStore(CROSS_LINGUAL)
    Retriever(Settings(), OneVector(), store).retrieve(ZH_QUESTION, k=3,
                                                       filters={"language": ["en"]})
    # the question is Chinese, the filter allows English only: no Chinese BM25 at all
    assert all(f != {"language": ["zh"]} for _, f in store.keyword_calls)


@pytest.mark.parametrize("fusion, embeds, keyword", [
    ("dense", True, False), ("keyword", False, True), ("rrf", True, True),
    ("guarded", True, True),
])
def test_fusion_runs_only_the_searches_it_needs(fusion: str, embeds: bool, keyword: bool
                                                ) -> None:
    store, embedder = TableStore(TRIAL_ID), OneVector()
    Retriever(Settings(retrieval={"fusion": fusion}), embedder, store).retrieve(TRIAL_QUESTION)
    assert bool(embedder.calls) is embeds
    assert bool(store.keyword_calls) is keyword


def test_extra_queries_are_searched_too() -> None:
    # a translated question (translate_query) finds what the original question cannot
    store, embedder = TableStore(CROSS_LINGUAL), OneVector()
    got = Retriever(Settings(retrieval={"fusion": "keyword"}), embedder, store).retrieve(
        "denosumab", extra_queries=["skeletal-related"], k=4)
    assert [c.chunk_id for c in got] == ["en_far"]
    assert [t for t, _ in store.keyword_calls] == [["denosumab"], ["skeletal-related"]]


def test_question_without_anchors_searches_its_language_only() -> None:
    # no identifiers, numbers or acronyms: no anchor search over nothing
    store = TableStore(CROSS_LINGUAL)
    Retriever(Settings(), OneVector(), store).retrieve(ZH_QUESTION, k=3)
    assert store.keyword_calls == [(tokenize(ZH_QUESTION), {"language": ["zh"]})]


@pytest.mark.parametrize("passages, question, fusion, filters, expected", [
    (CROSS_LINGUAL, ZH_QUESTION, "dense", {"language": ["en"]}, ["en_orr", "en_far"]),
    # unfiltered, both languages match (zh_more twice; en_orr and zh_orr once, in store order)
    (CROSS_LINGUAL, "安罗替尼 anlotinib", "keyword", None, ["zh_more", "en_orr", "zh_orr"]),
    (CROSS_LINGUAL, "安罗替尼 anlotinib", "keyword", {"language": ["en"]}, ["en_orr"]),
    (CROSS_LINGUAL, ZH_QUESTION, "rrf", {"language": ["en"]}, ["en_orr", "en_far"]),
    # the anchor search keeps to the filter too: the English trial passage stays out
    (TRIAL_ID, TRIAL_QUESTION, "guarded", {"language": ["zh"]}, ["zh_other"]),
], ids=["dense", "keyword-unfiltered", "keyword", "rrf", "guarded-anchor"])
def test_filters_hold_for_every_search(passages, question, fusion, filters, expected) -> None:
    assert retrieve(passages, question, fusion, filters) == expected


def test_fetch_k_bounds_each_search() -> None:
    # one candidate from the keyword search: zh_orr (4 hits) never reaches the fusion
    assert retrieve(CROSS_LINGUAL, ZH_QUESTION, "keyword", fetch_k=1) == ["zh_more"]


def test_keyword_only_hit_gets_its_cosine_before_guarded_fusion() -> None:
    # two dense candidates (en_orr, zh_orr); zh_more comes from Chinese BM25 alone. Its cosine
    # 0.46 is looked up, so it takes the first Chinese place on 0.46 + 0.05 (a bonus alone,
    # 0.05, would put it last)
    got = retrieve_chunks(CROSS_LINGUAL, ZH_QUESTION, "guarded", fetch_k=2)
    assert [c.chunk_id for c in got] == ["en_orr", "zh_more", "zh_orr"]
    assert [c.score for c in got] == pytest.approx([0.50, 0.46 + 0.05, 0.47 + 0.05 * 4 / 8])
    assert [c.dense_score for c in got] == pytest.approx([0.50, 0.46, 0.47])


def test_keyword_only_hit_gets_its_cosine_after_rank_fusion() -> None:
    # rrf does not use the cosine, but the passages it returns carry it (out-of-scope check)
    got = retrieve_chunks(CROSS_LINGUAL, ZH_QUESTION, "rrf", fetch_k=2)
    assert [c.chunk_id for c in got] == ["zh_orr", "en_orr", "zh_more"]
    assert [c.dense_score for c in got] == pytest.approx([0.47, 0.50, 0.46])


@pytest.mark.parametrize("fusion", ["rrf", "guarded"])
def test_keyword_hit_without_a_stored_vector_keeps_no_cosine(fusion: str) -> None:
    got = retrieve_chunks(CROSS_LINGUAL, ZH_QUESTION, fusion, fetch_k=2,
                          vectorless=["zh_more"])
    cosines = {c.chunk_id: c.dense_score for c in got}
    assert cosines == {"en_orr": pytest.approx(0.50), "zh_orr": pytest.approx(0.47),
                       "zh_more": None}


@pytest.mark.parametrize("k, shown", [
    (0, "k=0"), (-1, "k=-1"), (51, "k=51"), (True, "k=True"), (False, "k=False"),
    (2.5, "k=2.5"), ("3", "k='3'"),
])
def test_check_k_rejects_what_is_not_1_to_50(k, shown: str) -> None:
    with pytest.raises(BadQuestionError) as err:
        check_k(k)
    assert str(err.value) == (f"{shown} passages is not possible: give a whole number from 1 "
                              "to 50 (or leave it out for CLINCITE_RETRIEVAL__K)")


@pytest.mark.parametrize("k", [None, 1, 2, MAX_K])
def test_check_k_accepts_none_and_1_to_50(k) -> None:
    check_k(k)


@pytest.mark.parametrize("k, expected", [(1, ["en_trial"]), (MAX_K, ["en_trial", "zh_other",
                                                                      "en_far"])])
def test_retrieve_returns_at_most_k(k: int, expected: list[str]) -> None:
    got = Retriever(Settings(), OneVector(), TableStore(TRIAL_ID)).retrieve(TRIAL_QUESTION, k=k)
    assert [c.chunk_id for c in got] == expected


def test_retrieve_rejects_a_bad_k_before_searching() -> None:
    store, embedder = TableStore(TRIAL_ID), OneVector()
    with pytest.raises(BadQuestionError, match="k=0 passages is not possible"):
        Retriever(Settings(), embedder, store).retrieve(TRIAL_QUESTION, k=0)
    assert embedder.calls == [] and store.keyword_calls == []


def test_questions_are_embedded_as_queries() -> None:
    embedder = OneVector()
    Retriever(Settings(), embedder, TableStore(TRIAL_ID)).retrieve(
        TRIAL_QUESTION, extra_queries=["ALTER-S004 ORR"])
    assert embedder.calls == [[TRIAL_QUESTION, "ALTER-S004 ORR"]]
    assert embedder.kinds == ["query"]


@pytest.mark.parametrize("fusion", ["dense", "rrf", "guarded"])
def test_last_query_is_the_question_and_its_vector(fusion: str) -> None:
    retriever = Retriever(Settings(retrieval={"fusion": fusion}), OneVector(),
                          TableStore(TRIAL_ID))
    assert retriever.last_query is None
    retriever.retrieve(TRIAL_QUESTION, extra_queries=["ALTER-S004 ORR"])
    assert retriever.last_query is not None
    question, vector = retriever.last_query
    assert question == TRIAL_QUESTION
    assert vector.tolist() == [1.0, 0.0]


def test_keyword_fusion_leaves_no_query_vector() -> None:
    retriever = Retriever(Settings(retrieval={"fusion": "keyword"}), OneVector(),
                          TableStore(TRIAL_ID))
    retriever.retrieve(TRIAL_QUESTION)
    assert retriever.last_query is None


@pytest.mark.parametrize("fusion, not_run", [
    ("dense", "keyword_s"), ("keyword", "dense_s"), ("rrf", None), ("guarded", None),
])
def test_timings_are_the_durations_of_each_step(fusion: str, not_run: str | None) -> None:
    timings: dict[str, float] = {}
    retriever = Retriever(Settings(retrieval={"fusion": fusion}), OneVector(),
                          TableStore(TRIAL_ID))
    t0 = time.perf_counter()
    retriever.retrieve(TRIAL_QUESTION, timings=timings)
    elapsed = time.perf_counter() - t0
    assert set(timings) == {"embed_query_s", "dense_s", "keyword_s", "search_s", "fusion_s"}
    assert all(isinstance(v, float) and 0.0 <= v <= elapsed for v in timings.values()), timings
    if not_run:
        assert timings[not_run] == 0.0  # a search that is not run takes no time


# -- the pure pieces -------------------------------------------------------------------------


@pytest.mark.parametrize("question, expected", [
    ("What was the ORR of ALTER-S004 at 28.57%?", ["28.57%", "alter-s004", "orr"]),
    ("anlotinib orr in pd-1 trial", ["pd-1"]),  # lower-case "orr" is a word, not an acronym
    ("安罗替尼的客观缓解率是多少?", []),
    ("Is RANKL blocked by denosumab?", ["rankl"]),
    ("Is PD blocked?", []),  # two capitals are not enough
])
def test_anchor_terms(question: str, expected: list[str]) -> None:
    assert anchor_terms(question, tokenize(question)) == expected


def test_acronym_inside_chinese_question_is_an_anchor() -> None:
    """Found by these tests: \\b does not separate a Latin acronym from CJK characters."""
    question = "ALTER-S004研究的ORR是多少?"
    assert anchor_terms(question, tokenize(question)) == ["alter-s004", "orr"]


def test_rrf_sums_weight_over_rank() -> None:
    a, b, c = chunk("a", "en"), chunk("b", "en"), chunk("c", "zh")
    fused = rrf([([a, b], 1.0, "dense"), ([b, c], 0.5, "keyword")], k=60)
    assert [cid for cid, _ in fused] == ["b", "a", "c"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["b"] == pytest.approx(1 / 62 + 0.5 / 61)
    assert scores["c"] == pytest.approx(0.5 / 62)


def test_score_fusion_adds_normalised_bm25_bonus() -> None:
    pool = {"a": chunk("a", "en", dense=0.5), "b": chunk("b", "en", dense=0.48),
            "c": chunk("c", "zh", dense=None)}
    keyword = [chunk("b", "en", bm25=8.0), chunk("c", "zh", bm25=2.0)]
    dense_again = [chunk("a", "en", bm25=100.0)]  # a dense ranking never adds a bonus
    fused = score_fusion([(dense_again, 1.0, "dense"), (keyword, 0.1, "same_language"),
                          ([], 1.0, "anchor")], pool)
    assert [cid for cid, _ in fused] == ["b", "a", "c"]
    scores = dict(fused)
    assert scores["a"] == pytest.approx(0.5)
    assert scores["b"] == pytest.approx(0.48 + 0.1)
    assert scores["c"] == pytest.approx(0.1 * 2 / 8)  # no cosine: 0 plus its bonus


def test_score_fusion_zero_bm25_is_no_bonus() -> None:
    pool = {"a": chunk("a", "en", dense=0.5), "b": chunk("b", "en", dense=0.4)}
    fused = score_fusion([([chunk("b", "en", bm25=0.0)], 1.0, "anchor")], pool)
    assert fused == [("a", pytest.approx(0.5)), ("b", pytest.approx(0.4))]


@pytest.mark.parametrize("c_bm25", [0.0, None])
def test_score_fusion_hit_without_bm25_sets_no_scale(c_bm25: float | None) -> None:
    # the best BM25 in the ranking is b's 0.5, so b gets the whole weight; c adds nothing
    pool = {"a": chunk("a", "en", dense=0.5), "b": chunk("b", "en", dense=0.4),
            "c": chunk("c", "en", dense=0.3)}
    ranking = [chunk("b", "en", bm25=0.5), chunk("c", "en", bm25=c_bm25)]
    fused = score_fusion([(ranking, 0.2, "anchor")], pool)
    assert fused == [("b", pytest.approx(0.6)), ("a", pytest.approx(0.5)),
                     ("c", pytest.approx(0.3))]


@pytest.mark.parametrize("base_langs, fused, expected", [
    # the base order's languages stay; within a language the fused order decides
    (["en", "zh", "zh"], ["z1", "z2", "e1"], ["e1", "z1", "z2"]),
    (["zh", "en", "en"], ["e2", "e1", "z1"], ["z1", "e2", "e1"]),
    # a passage only the fused ranking has comes after the base's places, best fused first
    (["en", "zh"], ["z2", "z1", "e1", "e2"], ["e1", "z2", "z1", "e2"]),
])
def test_language_slots(base_langs: list[str], fused: list[str], expected: list[str]) -> None:
    pool = {cid: chunk(cid, "en" if cid.startswith("e") else "zh") for cid in
            ["e1", "e2", "z1", "z2"]}
    base = [chunk(f"{lang}-{i}", lang) for i, lang in enumerate(base_langs)]
    scored = [(cid, 1.0 - i / 10) for i, cid in enumerate(fused)]
    out = language_slots(base, scored, pool)
    assert [cid for cid, _ in out] == expected
    assert dict(out) == dict(scored)  # scores travel with their passage
