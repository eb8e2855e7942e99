"""The "For you" ranking service: signals from the store in, ranked and explained papers out.

For a reader and a period it

1. reads the reader's profile (positives: upvoted, collected, "more like this", imported;
   negatives: "less like this") and takes their fitted model from ``reader_models`` when it was
   fitted on exactly this profile and vocabulary, or fits it again (negatives get papers sampled
   from the positives' days) and stores it: a changed signal costs one refit, none costs nothing;
2. scores the period's papers with :func:`paperboy.recommend.rank_many` (the digest ranks every
   reader of a batch in one call);
3. applies follows and rules on top (:mod:`paperboy.recommend.rules`): an exclude removes a
   paper, a follow or include makes sure it is shown;
4. explains the papers shown: the closest liked papers (with titles), the words that weigh most,
   and the follow or rule that fired.

The shared tf-idf vocabulary is fitted once on the store's recent papers (again when the store
has grown several times since). Within a process, a period's candidates are kept for
:data:`CANDIDATE_TTL` seconds and a reader's ranked list until their model or the candidates
change, so paging and reloading never rank twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

import numpy as np

from paperboy.recommend import (
    DEFAULT_PARAMS,
    FormatError,
    Item,
    ModelParams,
    ReaderModel,
    Vocabulary,
    candidate_features,
    explain,
    explain_many,
    fit_reader,
    rank_many,
)
from paperboy.recommend.rules import Overrides, Paperish, QueryParser
from paperboy.embedding import configured_model_id
from paperboy.settings import Settings
from paperboy.storage import Store
from paperboy.storage.feeds import Period
from paperboy.storage.signals import Profile

log = logging.getLogger(__name__)

#: papers the vocabulary is fitted on (the newest ones)
VOCAB_DOCS = 10_000
#: a period's papers ranked at most (the newest ones)
CANDIDATE_CAP = 5_000
CANDIDATE_TTL = 60.0
#: readers whose fitted model a process keeps in memory (the digest batch goes through the
#: database cache instead)
MODELS_KEPT = 256
#: papers the model alone puts in a reader's list, per day of the period (follows and includes
#: come on top)
SHOWN_PER_DAY = 40
#: period candidates' features kept (~15 MB per 5,000 papers), and readers' follow/rule hits
DERIVED_KEPT = {"features": 8, "hits": 256}
#: implicit negatives per positive (papers of the same days), within bounds
NEGATIVES_PER_POSITIVE = 3
MIN_NEGATIVES, MAX_NEGATIVES = 50, 1000
#: a follow or include lifts a paper above any model score (SVM margins stay within a few units)
SHOWN_BONUS = 100.0


@dataclass
class Candidate(Paperish):
    day: date | None = None
    vector: np.ndarray | None = None

    def item(self) -> Item:
        return Item(self.id, f"{self.title} {self.abstract}", self.vector)


@dataclass
class Recommendation:
    paper_id: str
    score: float
    #: follows and rules that fired ("you follow author X", "include: graph neural")
    reasons: list[str] = field(default_factory=list)
    #: (paper id, title, similarity) of the closest liked papers
    liked: list[tuple[str, str, float]] = field(default_factory=list)
    #: (word, weight), heaviest first
    words: list[tuple[str, float]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"score": round(self.score, 4), "reasons": self.reasons,
                "closest_liked": [{"id": i, "title": t, "similarity": s} for i, t, s in self.liked],
                "words": [{"word": w, "weight": x} for w, x in self.words]}


@dataclass
class RecommendationPage:
    items: list[Recommendation]
    total: int
    has_signals: bool
    period: Period


@dataclass
class _Ranked:
    order: list[tuple[str, float, list[str]]]
    explained: dict[str, Recommendation] = field(default_factory=dict)


class RecommendService:
    """One per store (the web app keeps one; the CLI and digest job make their own).
    ``parse_query``: the search box's parser, for keyword rules (see :mod:`.rules`)."""

    def __init__(self, store: Store, settings: Settings, parse_query: QueryParser,
                 params: ModelParams = DEFAULT_PARAMS):
        self.store = store
        self.parse_query = parse_query
        self.settings = settings
        self.params = params
        self.embedding_model = configured_model_id(settings, store.search.has_embeddings)
        self._lock = threading.Lock()
        self._vocab: tuple[int, Vocabulary] | None = None
        self._vocab_checked = 0.0
        self._candidates: OrderedDict = OrderedDict()
        self._lists: OrderedDict = OrderedDict()
        self._derived: dict[str, OrderedDict] = {kind: OrderedDict() for kind in DERIVED_KEPT}
        #: user id -> (version, fitted model): the models of recently seen readers
        self._models: OrderedDict = OrderedDict()

    # -- the shared vocabulary --------------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """The stored vocabulary (fitted on first use, refitted when the store outgrew it)."""
        now = time.monotonic()
        if self._vocab is not None and now - self._vocab_checked < CANDIDATE_TTL:
            return self._vocab[1]
        with self._lock:
            stored_id = self.store.signals.vocabulary_id()
            if self._vocab is None or self._vocab[0] != stored_id:
                stored = self.store.signals.vocabulary()
                vocab = None
                if stored is not None:
                    try:
                        vocab = Vocabulary.from_bytes(stored[2])
                    except FormatError:
                        vocab = None
                    if vocab is not None and self._outgrown(stored[1]):
                        vocab = None
                if vocab is None:
                    vocab, stored_id = self._fit_vocabulary()
                else:
                    stored_id = stored[0]
                self._vocab = (stored_id, vocab)
            self._vocab_checked = now
            return self._vocab[1]

    def _outgrown(self, n_docs: int) -> bool:
        if n_docs >= VOCAB_DOCS:
            return False
        return self.store.papers.count() >= max(2 * n_docs, n_docs + 50)

    def _fit_vocabulary(self) -> tuple[Vocabulary, int]:
        started = time.perf_counter()
        texts = self.store.signals.texts(self.store.signals.recent_ids(VOCAB_DOCS),
                                         self.embedding_model)
        vocab = Vocabulary.fit([f"{t.title} {t.abstract}" for t in texts],
                               [t.vector for t in texts])
        vocab_id = self.store.signals.put_vocabulary(vocab.to_bytes(), len(texts))
        log.info("recommend: vocabulary of %d terms fitted on %d papers in %.1f s", vocab.size,
                 len(texts), time.perf_counter() - started)
        return vocab, vocab_id

    # -- models -------------------------------------------------------------------------------

    def _version(self, profile: Profile, vocab: Vocabulary) -> str:
        p = self.params
        return f"{profile.version[:20]}-{vocab.fingerprint[:8]}-{p.kind[:3]}{p.C:g}"[:64]

    def models(self, user_ids: Sequence[int]
               ) -> dict[int, tuple[ReaderModel | None, str, frozenset[str]]]:
        """Each reader's model (None: no signal at all), its version, and the papers the reader
        already judged (never recommended back); stale models are refit and stored."""
        vocab = self.vocabulary()
        profiles = self.store.signals.profiles(user_ids)
        versions = {u: self._version(profiles[u], vocab) for u in user_ids}
        with self._lock:
            in_memory = {u: m for u in user_ids
                         if (m := self._models.get(u)) is not None and m[0] == versions[u]}
        cached = self.store.signals.cached_models([u for u in user_ids if u not in in_memory])
        cached.update(in_memory)
        out: dict[int, tuple[ReaderModel | None, str, frozenset[str]]] = {}
        for uid in user_ids:
            profile = profiles[uid]
            version = self._version(profile, vocab)
            seen = frozenset(profile.positives) | frozenset(profile.negatives)
            if not profile.positives and not profile.negatives:
                out[uid] = (None, version, seen)
                continue
            hit = cached.get(uid)
            model = None
            if hit is not None and hit[0] == version:
                try:
                    model = (hit[1] if isinstance(hit[1], ReaderModel)
                             else ReaderModel.from_bytes(hit[1]))
                except FormatError:
                    model = None
            if model is None or model.vocab_fingerprint != vocab.fingerprint:
                model = self._fit(uid, profile, vocab, version)
            with self._lock:
                self._models[uid] = (version, model)
                self._models.move_to_end(uid)
                while len(self._models) > MODELS_KEPT:
                    self._models.popitem(last=False)
            out[uid] = (model, version, seen)
        return out

    def model(self, user_id: int) -> tuple[ReaderModel | None, str]:
        return self.models([user_id])[user_id][:2]

    def _fit(self, user_id: int, profile: Profile, vocab: Vocabulary, version: str) -> ReaderModel:
        sig = self.store.signals
        n = min(MAX_NEGATIVES, max(MIN_NEGATIVES, NEGATIVES_PER_POSITIVE * len(profile.positives)))
        # seeded by the reader, not the signals: one new signal keeps most of the sample (and
        # its cached features)
        sampled = sig.same_day_sample(profile.positives + profile.negatives, n, seed=str(user_id))
        texts = {t.id: t for t in sig.texts(profile.positives + profile.negatives + sampled,
                                            self.embedding_model)}

        def items(ids):
            return [Item(i, f"{texts[i].title} {texts[i].abstract}", texts[i].vector)
                    for i in ids if i in texts]

        model = fit_reader(items(profile.positives), items(profile.negatives + sampled), vocab,
                           self.params)
        sig.put_model(user_id, version, model.to_bytes())
        return model

    # -- candidates ---------------------------------------------------------------------------

    def _bounds(self, period: Period) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.settings.timezone)
        lo = datetime.combine(period.start, datetime.min.time(), zone)
        hi = datetime.combine(period.end, datetime.min.time(), zone)
        return (lo.astimezone(timezone.utc).replace(tzinfo=None),
                hi.astimezone(timezone.utc).replace(tzinfo=None))

    def candidates(self, period: Period) -> tuple[str, list[Candidate]]:
        """(a key naming this set, the period's papers, newest first), kept CANDIDATE_TTL s."""
        ident, cands, _ = self._candidate_set(period)
        return ident, cands

    def _candidate_set(self, period: Period) -> tuple[str, list[Candidate], dict[str, Candidate]]:
        key = (period.start, period.end)
        now = time.monotonic()
        with self._lock:
            hit = self._candidates.get(key)
            if hit is not None and now - hit[0] < CANDIDATE_TTL:
                return hit[1:]
        lo, hi = self._bounds(period)
        rows = self.store.signals.period_papers(period.start, period.end, lo, hi, CANDIDATE_CAP)
        vectors = {t.id: t.vector for t in self.store.signals.texts([r.id for r in rows],
                                                                    self.embedding_model)}
        cands = [Candidate(id=r.id, title=r.title or "", abstract=r.abstract or "",
                           authors=r.authors or [], categories=r.categories or [],
                           organization=r.organization, day=_day(r.day),
                           vector=vectors.get(r.id)) for r in rows]
        ident = f"{period.start}:{period.end}:{len(cands)}:{hash(tuple(c.id for c in cands))}"
        with self._lock:
            self._candidates[key] = (now, ident, cands, {c.id: c for c in cands})
            self._candidates.move_to_end(key)
            while len(self._candidates) > 32:
                self._candidates.popitem(last=False)
            return self._candidates[key][1:]

    # -- ranking ------------------------------------------------------------------------------

    def _shown(self, period: Period) -> int:
        return SHOWN_PER_DAY * max(1, (period.end - period.start).days)

    def _order(self, scores: np.ndarray, cands: Sequence[Candidate], overrides: Overrides,
               has_model: bool, shown: int, seen: frozenset[str],
               hits: dict[int, tuple[bool, list[str]]] | None = None
               ) -> list[tuple[str, float, list[str]]]:
        """The reader's list: the model's best ``shown`` papers plus every followed / included
        one, minus the excluded and those the reader already judged; followed / included
        first, then by score. ``hits``: :meth:`_override_hits` of these candidates, if known."""
        top: list[int] = []
        if has_model:
            for i in np.argsort(-scores, kind="stable").tolist():
                if len(top) >= shown:
                    break
                if cands[i].id not in seen:
                    top.append(i)
        if overrides.empty:  # the model's order as it is (most readers of a digest batch)
            return [(cands[i].id, float(scores[i]), []) for i in top]
        if hits is None:
            hits = self._override_hits(overrides, cands)
        keep: list[tuple[str, float, list[str]]] = []
        for i in sorted(set(top) | hits.keys()):
            if cands[i].id in seen:
                continue
            excluded, reasons = hits.get(i, (False, []))
            if excluded:
                continue
            score = float(scores[i]) if has_model else 0.0
            keep.append((cands[i].id, score + (SHOWN_BONUS if reasons else 0.0), reasons))
        keep.sort(key=lambda r: -r[1])
        return keep

    @staticmethod
    def _override_hits(overrides: Overrides, cands: Sequence[Candidate]
                       ) -> dict[int, tuple[bool, list[str]]]:
        """The candidates a follow or rule excludes or shows: index -> (excluded, reasons)."""
        hits = {}
        for i, cand in enumerate(cands):
            excluded, reasons = overrides.apply(cand)
            if excluded or reasons:
                hits[i] = (excluded, reasons)
        return hits

    def _period_cache(self, key: tuple, compute):
        """What a period's candidates give whatever the reader's model (``key[0]``: their
        "features", a reader's follow/rule "hits"), kept for the most recent keys: a changed
        signal refits and ranks again, but does not recompute these."""
        kept = self._derived[key[0]]
        with self._lock:
            hit = kept.get(key)
            if hit is not None:
                kept.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            kept[key] = value
            while len(kept) > DERIVED_KEPT[key[0]]:
                kept.popitem(last=False)
        return value

    def _ranked(self, user_id: int, period: Period) -> tuple[_Ranked, ReaderModel | None,
                                                               dict[str, Candidate], bool]:
        model, version, seen = self.models([user_id])[user_id]
        follows = self.store.signals.follows(user_id)
        rules = self.store.signals.rules(user_id)
        overrides = Overrides.of(follows, rules, self.parse_query)
        ident, cands, by_id = self._candidate_set(period)
        key = (user_id, version, ident, tuple((f.id for f in follows)),
               tuple((r.id for r in rules)))
        has_signals = model is not None or not overrides.empty
        with self._lock:
            hit = self._lists.get(key)
            if hit is not None:
                self._lists.move_to_end(key)
                return hit, model, by_id, has_signals
        if model is not None and cands:
            vocab = self.vocabulary()
            items = [c.item() for c in cands]
            features = self._period_cache(("features", ident, vocab.fingerprint),
                                          lambda: candidate_features(items, vocab))
            scores = rank_many([model], items, vocab, features=features)[0]
        else:
            scores = np.zeros(len(cands), dtype=np.float32)
        hits = None if overrides.empty else self._period_cache(
            ("hits", *key[:1], *key[2:]), lambda: self._override_hits(overrides, cands))
        ranked = _Ranked(self._order(scores, cands, overrides, model is not None,
                                     self._shown(period), seen, hits))
        with self._lock:
            self._lists[key] = ranked
            while len(self._lists) > 512:
                self._lists.popitem(last=False)
        return ranked, model, by_id, has_signals

    def recommend(self, user_id: int, period: Period, limit: int = 30,
                  offset: int = 0) -> RecommendationPage:
        """One page of the reader's list for a period, each entry explained."""
        ranked, model, by_id, has_signals = self._ranked(user_id, period)
        page = ranked.order[offset:offset + limit]
        need = [(pid, score, reasons) for pid, score, reasons in page
                if pid not in ranked.explained]
        if need:
            fresh = self._explain(model, need, by_id)
            with self._lock:
                ranked.explained.update(fresh)
        return RecommendationPage([ranked.explained[pid] for pid, _, _ in page],
                                  len(ranked.order), has_signals, period)

    def recommend_many(self, user_ids: Sequence[int], period: Period,
                       limit: int = 10) -> dict[int, list[Recommendation]]:
        """Every reader's best ``limit`` papers of a period: the digest's batch. Models come
        from the cache (stale ones refit), the candidates are featurized once and all readers
        scored in one :func:`rank_many` call; follows and rules are read for all at once."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        models = self.models(ids)
        follows = self.store.signals.follows_many(ids)
        rules = self.store.signals.rules_many(ids)
        _, cands = self.candidates(period)
        with_model = [u for u in ids if models[u][0] is not None]
        scores = np.zeros((len(ids), len(cands)), dtype=np.float32)
        if with_model and cands:
            block = rank_many([models[u][0] for u in with_model], [c.item() for c in cands],
                              self.vocabulary())
            row = {u: i for i, u in enumerate(ids)}
            for j, u in enumerate(with_model):
                scores[row[u]] = block[j]
        by_id = {c.id: c for c in cands}
        out: dict[int, list[Recommendation]] = {}
        for i, uid in enumerate(ids):
            overrides = Overrides.of(follows[uid], rules[uid], self.parse_query)
            model = models[uid][0]
            if model is None and overrides.empty:
                out[uid] = []
                continue
            order = self._order(scores[i], cands, overrides, model is not None, limit,
                                models[uid][2])[:limit]
            out[uid] = self._closest(model, order, by_id)
        self._titles([rec for recs in out.values() for rec in recs])
        return out

    def forget(self, user_id: int) -> None:
        """Drop the reader's ranked lists from this process (after they deleted their data)."""
        with self._lock:
            for key in [k for k in self._lists if k[0] == user_id]:
                del self._lists[key]
            for key in [k for k in self._derived["hits"] if k[1] == user_id]:
                del self._derived["hits"][key]
            self._models.pop(user_id, None)

    # -- explanations -------------------------------------------------------------------------

    def _closest(self, model: ReaderModel | None, rows, by_id: dict[str, Candidate]
                 ) -> list[Recommendation]:
        """The digest's short explanation: the follow/rule that fired, else the closest liked
        paper by vector (one product per paper; the full :func:`explain` with words is for
        pages, where a reader looks at one list)."""
        out = []
        liked = None
        if model is not None and model.liked_has_vector.any():
            has = model.liked_has_vector
            liked = (model.liked_vectors[has], [i for i, h in zip(model.liked_ids, has) if h])
        for pid, score, reasons in rows:
            rec = Recommendation(pid, score - (SHOWN_BONUS if reasons else 0.0), list(reasons))
            cand = by_id.get(pid)
            if not reasons and model is not None and cand is not None:
                if liked is not None and cand.vector is not None:
                    sims = liked[0] @ np.asarray(cand.vector, dtype=np.float32)
                    j = int(np.argmax(sims))
                    closest = (liked[1][j], float(sims[j]))
                else:  # not embedded yet: the model's own (tf-idf) similarities
                    found = explain(model, cand.item(), self.vocabulary(), top_liked=1,
                                    top_words=0).liked
                    closest = found[0] if found and found[0][1] > 0 else None
                if closest is not None:
                    rec.liked = [(closest[0], "", round(closest[1], 3))]
            out.append(rec)
        return out

    def _titles(self, recs: Sequence[Recommendation]) -> None:
        """Fill in the titles of the liked papers named by ``recs`` (one query)."""
        wanted = {i for rec in recs for i, _, _ in rec.liked}
        if not wanted:
            return
        titles = {t.id: " ".join(t.title.split()) for t in self.store.signals.texts(sorted(wanted))}
        for rec in recs:
            rec.liked = [(i, titles.get(i, i), s) for i, _, s in rec.liked]

    def _explain(self, model: ReaderModel | None, rows, by_id: dict[str, Candidate]
                 ) -> dict[str, Recommendation]:
        out: dict[str, Recommendation] = {}
        liked_ids: set[str] = set()
        raw = {}
        vocab = self.vocabulary() if model is not None else None
        known = [pid for pid, _, _ in rows if model is not None and pid in by_id]
        found = dict(zip(known, explain_many(model, [by_id[p].item() for p in known], vocab)
                         if known else []))
        for pid, score, reasons in rows:
            exp = found.get(pid)
            raw[pid] = (score, reasons, exp)
            if exp is not None:
                liked_ids.update(i for i, _ in exp.liked)
        titles = {t.id: " ".join(t.title.split()) for t in self.store.signals.texts(sorted(liked_ids))}
        for pid, (score, reasons, exp) in raw.items():
            rec = Recommendation(pid, score - (SHOWN_BONUS if reasons else 0.0), list(reasons))
            if exp is not None:
                rec.liked = [(i, titles[i], round(float(s), 3)) for i, s in exp.liked
                             if i in titles and s > 0]
                rec.words = [(w, round(float(x), 4)) for w, x in exp.words]
            out[pid] = rec
        return out


def _day(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
