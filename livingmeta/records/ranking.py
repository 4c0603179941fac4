"""Relevance ranking of records still to screen, learned from the title/abstract decisions so far.

Built on scikit-learn (imported inside the functions that need it, so that only the screening job, and
only when it ranks, pays for the import). Models (``MODELS``; each is one or more components of TF-IDF
features + a linear classifier, fitted on the screened records; an ensemble combines its components'
decision values as ``COMBINE`` says, by default the mean of their z-scores):

``"elas_u4"`` (the default, chosen by its worst data set under both WSS@95 definitions: docs/screening.md,
"Prioritisation and stopping")
    ASReview LAB's default model since version 2 ("ELAS u4"; asreview ``models/models.py``): TF-IDF of
    words and word pairs of title + abstract (scikit-learn's default tokeniser, lower case, no stop list,
    sublinear tf, ``min_df=1``, ``max_df=0.95``), a linear SVM (``LinearSVC``, squared hinge loss,
    C = 0.11) with ASReview's "balanced" sample weights at ratio 9.8 (the includes together weigh 9.8
    times the excludes together: :func:`asreview_balanced_weights`), and the "max" query (highest
    decision value first). Van de Schoot et al. 2021, Nature Machine Intelligence 3:125-133; model
    parameters from ASReview's SYNERGY optimisation.
``"union_svm"``
    ELAS u4's classifier and weights on the word TF-IDF and the character 3- to 5-gram TF-IDF side by
    side (one feature vector, each part unit length, scaled by 1/sqrt 2: :class:`UnionTfidf`). Better
    than ELAS u4 on four of the five benchmark sets, worse on one (Opiods): the runner-up.
``"ensemble_svm"`` (the default before issue #21)
    ``svm_char`` and ``elas_u4`` together: each component's decision values are standardised (z-scores
    over the records being ranked) and averaged. Word features carry the topic's vocabulary; character
    n-grams match stems and variants (depress-ion/-ive, anti-depress-ant, drug-name stems), which helps
    most for records with a title only.
``"logistic_char"``
    livingmeta's model before scikit-learn: TF-IDF of character 3- to 5-grams inside word boundaries
    (``char_wb``, sublinear tf, ``min_df=2`` with >= 100 records), L2 logistic regression (C = 1) with
    class-balanced weights.
``"svm_char"``
    ELAS u4's classifier and weights on the character 3- to 5-gram TF-IDF.
``"ensemble_logistic"``
    ``logistic_char`` and ``elas_u4`` together, the same way.

Candidates tried for issue #21 and not chosen (kept so that their figures can be reproduced):
``ensemble_svm_rrf`` (reciprocal-rank fusion, score = sum 1 / (60 + rank): Cormack, Clarke & Buettcher
2009, SIGIR '09:758-759), ``ensemble_svm_interleave`` (round robin over the components' rankings,
duplicates skipped: the "interleave" strategy of Voorhees, Gupta & Johnson-Laird 1995, TREC-3, "The
collection fusion problem"), ``ensemble_svm_max`` (CombMAX of z-scores: Fox & Shaw 1994, TREC-2),
``ensemble_svm_word3`` (word : char weights 3 : 1), ``ensemble_svm_charbal`` (char component with
scikit-learn's balanced weights), ``nb_word`` (multinomial naive Bayes, alpha = 3.822, ASReview's default
before version 2: van de Schoot et al. 2021; McCallum & Nigam 1998, AAAI workshop on learning for text
categorization; here on ELAS u4's TF-IDF with ratio weights instead of ASReview 1's "double" balancing),
``ensemble_svm_nb``, ``ensemble_svm_char_nb``, ``elas_u4_balanced`` (ELAS u4 with scikit-learn's
balanced weights), ``union_svm_balanced``, ``union_logistic``.

``simulate`` replays screening of a labelled set in ranked order (used by ``benchmarks/``);
``screening_metrics`` gives WSS@95 (both common definitions), recall at 10 % and records to 95 % recall;
``strongest_terms`` explains a ranking by the terms that push each record up most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# --------------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True)
class Component:
    """One TF-IDF representation + one linear classifier."""

    features: str          # "word" (words + word pairs, ASReview's TF-IDF) | "char" (char_wb 3-5-grams)
                           # | "union" (both side by side)
    classifier: str        # "svm" (LinearSVC) | "logistic" (LogisticRegression) | "nb" (MultinomialNB)
    C: float               # regularisation C; for "nb" the smoothing alpha
    balance: str           # "asreview" (ratio weights, see asreview_balanced_weights) | "balanced"
    ratio: float = 1.0     # ASReview balance ratio
    weight: float = 1.0    # weight in an ensemble's mean of z-scores


_ELAS = Component("word", "svm", 0.11, "asreview", 9.8)
_SVM_CHAR = Component("char", "svm", 0.11, "asreview", 9.8)
_NB_WORD = Component("word", "nb", 3.822, "asreview", 9.8)

MODELS: dict[str, tuple[Component, ...]] = {
    "elas_u4": (_ELAS,),
    "logistic_char": (Component("char", "logistic", 1.0, "balanced"),),
    "svm_char": (_SVM_CHAR,),
    "ensemble_svm": (_SVM_CHAR, _ELAS),
    "ensemble_logistic": (Component("char", "logistic", 1.0, "balanced"), _ELAS),
    "union_svm": (Component("union", "svm", 0.11, "asreview", 9.8),),
    # candidates tried for issue #21 and not chosen (figures: docs/screening.md)
    "ensemble_svm_rrf": (_ELAS, _SVM_CHAR),
    "ensemble_svm_interleave": (_ELAS, _SVM_CHAR),
    "ensemble_svm_max": (_ELAS, _SVM_CHAR),
    "ensemble_svm_word3": (Component("word", "svm", 0.11, "asreview", 9.8, weight=3.0), _SVM_CHAR),
    "ensemble_svm_charbal": (_ELAS, Component("char", "svm", 0.11, "balanced")),
    "nb_word": (_NB_WORD,),
    "ensemble_svm_nb": (_ELAS, _NB_WORD),
    "ensemble_svm_char_nb": (_ELAS, _SVM_CHAR, _NB_WORD),
    "elas_u4_balanced": (Component("word", "svm", 0.11, "balanced"),),
    "union_svm_balanced": (Component("union", "svm", 0.11, "balanced"),),
    "union_logistic": (Component("union", "logistic", 1.0, "balanced"),),
}
# how an ensemble combines its components' decision values (any model not named: "zmean")
COMBINE: dict[str, str] = {"ensemble_svm_rrf": "rrf", "ensemble_svm_interleave": "interleave",
                           "ensemble_svm_max": "zmax"}
DEFAULT_MODEL = "elas_u4"


def make_vectorizer(features: str, n_records: int):
    """The TF-IDF vectoriser of a feature kind (fitted on all records, screened or not)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if features == "word":   # ASReview ELAS u4's feature extractor
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95, dtype=np.float32)
    if features == "char":
        return CharWbTfidf(ngram_range=(3, 5), min_df=2 if n_records >= 100 else 1)
    if features == "union":
        return UnionTfidf([make_vectorizer("word", n_records), make_vectorizer("char", n_records)])
    raise ValueError(f"unknown features {features!r}")


class CharWbTfidf:
    """scikit-learn's ``TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)`` computed faster.

    ``char_wb`` takes the n-grams of each whitespace-separated (lower-cased) word on its own, so a
    record's n-gram counts are its word counts times each word's n-gram counts: scikit-learn's own
    analyzer runs once per distinct word (tens of thousands) instead of once per word occurrence
    (millions), then ``TfidfTransformer`` weights the counts. Same matrix as ``TfidfVectorizer``
    (tested), several times faster on 10,000 records."""

    def __init__(self, ngram_range=(3, 5), min_df: int = 1, dtype=np.float32):
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.dtype = dtype

    def _word_counts(self, texts, fit: bool):
        from sklearn.feature_extraction.text import CountVectorizer

        if fit:
            self._words = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=True)
            return self._words.fit_transform(texts), self._words.get_feature_names_out()
        C = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=True)
        return C.fit_transform(texts), C.get_feature_names_out()

    def _ngram_matrix(self, words, vocab: dict | None):
        """(words x n-grams) counts; with ``vocab`` fixed, unknown n-grams are dropped."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        analyze = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, lowercase=False).build_analyzer()
        grow = vocab is None
        vocab = {} if grow else vocab
        rows, cols = [], []
        for i, w in enumerate(words):
            for g in analyze(w):
                j = vocab.get(g)
                if j is None:
                    if not grow:
                        continue
                    j = vocab[g] = len(vocab)
                rows.append(i)
                cols.append(j)
        W = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(words), len(vocab)))
        return W, vocab

    def fit_transform(self, texts):
        from sklearn.feature_extraction.text import TfidfTransformer

        texts = [t or "" for t in texts]
        C, words = self._word_counts(texts, fit=True)
        W, vocab = self._ngram_matrix(words, None)
        counts = (C @ W).tocsc()
        df = np.diff(counts.indptr)
        keep = np.flatnonzero(df >= self.min_df)
        names = np.empty(len(vocab), dtype=object)
        for g, j in vocab.items():
            names[j] = g
        order = keep[np.argsort(names[keep].astype(str), kind="stable")]   # sorted vocabulary, as sklearn
        self.names_ = names[order].astype(str)
        self.vocabulary_ = {g: i for i, g in enumerate(self.names_)}
        counts = counts[:, order].tocsr()
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        return self._tfidf.fit_transform(counts).astype(self.dtype)

    def fit(self, texts):
        self.fit_transform(texts)
        return self

    def transform(self, texts):
        texts = [t or "" for t in texts]
        C, words = self._word_counts(texts, fit=False)
        W, _ = self._ngram_matrix(words, self.vocabulary_)
        return self._tfidf.transform((C @ W).tocsr()).astype(self.dtype)

    def get_feature_names_out(self):
        return self.names_


class UnionTfidf:
    """Several TF-IDF representations side by side in one feature vector (scikit-learn's
    ``FeatureUnion``), each part's rows unit length, the whole scaled by 1/sqrt(parts) (unit length
    again). ``sizes_``: the number of features of each part, in order."""

    def __init__(self, parts):
        self.parts = parts
        self.sizes_: list[int] = []

    def _stack(self, mats):
        from scipy import sparse

        return (sparse.hstack(mats).tocsr() * (1.0 / math.sqrt(len(mats)))).astype(np.float32)

    def fit_transform(self, texts):
        texts = [t or "" for t in texts]
        mats = [p.fit_transform(texts) for p in self.parts]
        self.sizes_ = [m.shape[1] for m in mats]
        return self._stack(mats)

    def transform(self, texts):
        return self._stack([p.transform(texts) for p in self.parts])

    def get_feature_names_out(self):
        return np.concatenate([np.asarray(p.get_feature_names_out(), dtype=object) for p in self.parts])


def asreview_balanced_weights(y: np.ndarray, ratio: float) -> np.ndarray:
    """ASReview's ``Balanced(ratio)`` sample weights: an include weighs 1 and an exclude
    n_include / (ratio x n_exclude), rescaled so that the weights sum to the number of records (so with
    ratio r the excludes together weigh 1/r of the includes together)."""
    y = np.asarray(y, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    w = np.where(y, 1.0, n1 / (ratio * max(n0, 1)))
    return w * (len(y) / w.sum())


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """n / (2 n_class): both classes weigh the same (scikit-learn's ``class_weight="balanced"``)."""
    y = np.asarray(y, dtype=bool)
    n, n1 = len(y), int(y.sum())
    return np.where(y, n / (2.0 * max(n1, 1)), n / (2.0 * max(n - n1, 1)))


def fit_component(comp: Component, X, y: np.ndarray):
    """Fit one component's classifier on TF-IDF rows X with labels y (both classes present); returns
    (coef vector, intercept)."""
    y = np.asarray(y, dtype=bool)
    w = asreview_balanced_weights(y, comp.ratio) if comp.balance == "asreview" else balanced_weights(y)
    if comp.classifier == "svm":
        from sklearn.svm import LinearSVC

        clf = LinearSVC(C=comp.C, loss="squared_hinge", random_state=0)
    elif comp.classifier == "nb":
        from sklearn.naive_bayes import MultinomialNB

        clf = MultinomialNB(alpha=comp.C)
        clf.fit(X, y.astype(int), sample_weight=w)
        lp = clf.feature_log_prob_
        return np.asarray(lp[1] - lp[0], dtype=float).ravel(), float(clf.class_log_prior_[1] - clf.class_log_prior_[0])
    elif comp.classifier == "logistic":
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=comp.C, solver="liblinear", max_iter=1000)
    else:
        raise ValueError(f"unknown classifier {comp.classifier!r}")
    clf.fit(X, y.astype(int), sample_weight=w)
    return np.asarray(clf.coef_, dtype=float).ravel(), float(np.ravel(clf.intercept_)[0])


def _standardise(values: np.ndarray) -> np.ndarray:
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 0 else values - values.mean()


class RelevanceRanker:
    """Learns include/exclude from screened records and scores unscreened ones (higher = more relevant).

    ``fit(texts, labels, extra_texts)``: TF-IDF on the screened and the to-be-screened texts together,
    each component's classifier on the screened ones; ``score(texts)``: decision values (for the
    ensemble the mean of the components' z-scores over the scored texts); ``strongest_terms``: why."""

    def __init__(self, model: str = DEFAULT_MODEL):
        if model not in MODELS:
            raise ValueError(f"unknown ranking model {model!r} (known: {', '.join(MODELS)})")
        self.model = model
        self.components = MODELS[model]
        self.vectorizers: dict[str, object] = {}
        self.fits: list[tuple[np.ndarray, float]] = []
        self._cache: dict = {}
        self._cached_texts: list[str] | None = None

    def describe(self) -> str:
        parts = []
        for c in self.components:
            feats = {"word": "words+word pairs", "char": "char 3-5-grams",
                     "union": "words+word pairs and char 3-5-grams side by side"}[c.features]
            bal = f"balanced ratio {c.ratio:g}" if c.balance == "asreview" else "balanced"
            clf = {"svm": "linear SVM", "logistic": "logistic", "nb": "naive Bayes"}[c.classifier]
            par = f"alpha={c.C:g}" if c.classifier == "nb" else f"C={c.C:g}"
            parts.append(f"tfidf+{clf} ({feats}, {par}, {bal})")
        text = " + ".join(parts)
        if self.model == "elas_u4":
            text += " (ASReview ELAS u4)"
        elif len(parts) > 1:
            how = {"zmean": "mean of z-scored decision values", "zmax": "maximum of z-scored decision values",
                   "rrf": "reciprocal-rank fusion", "interleave": "rankings interleaved"}[COMBINE.get(self.model, "zmean")]
            text += f" (ensemble: {how})"
        return text

    def fit(self, texts: Sequence[str], labels: Sequence[bool], extra_texts: Sequence[str] = ()) -> "RelevanceRanker":
        y = np.asarray(labels, dtype=bool)
        if y.all() or not y.any():
            raise ValueError("ranking needs at least one include and one exclude")
        texts = [t or "" for t in texts]
        extra = [t or "" for t in extra_texts]
        self.vectorizers, train, self._cache = {}, {}, {}
        for kind in sorted({c.features for c in self.components}):
            vec = make_vectorizer(kind, len(texts) + len(extra))
            X = vec.fit_transform(texts + extra).tocsr()   # one pass over all texts
            self.vectorizers[kind] = vec
            train[kind] = X[:len(texts)]
            self._cache[kind] = X[len(texts):]             # reused when the queue is scored / explained
        self._cached_texts = extra
        self.fits = [fit_component(c, train[c.features], y) for c in self.components]
        return self

    def transform(self, kind: str, texts: Sequence[str]):
        texts = [t or "" for t in texts]
        if getattr(self, "_cached_texts", None) == texts:
            return self._cache[kind]
        return self.vectorizers[kind].transform(texts)

    def _raw(self, texts: Sequence[str]) -> list[np.ndarray]:
        if not self.fits:
            raise RuntimeError("fit the ranker first")
        mats = {k: self.transform(k, texts) for k in self.vectorizers}
        return [np.asarray(mats[c.features] @ coef).ravel() + b for c, (coef, b) in zip(self.components, self.fits)]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return _combine(self.components, self._raw(texts), COMBINE.get(self.model, "zmean"))

    def strongest_terms(self, texts: Sequence[str], k: int = 5) -> list[list[str]]:
        """For each text, the ``k`` terms that raise its score most: the largest positive products
        coefficient x TF-IDF weight, taken from the word / word-pair component when the model has one
        (readable terms; of a word + char union, its word part), else from the character n-gram component
        (n-grams shown trimmed)."""
        return strongest_terms(self, texts, k)


def strongest_terms(ranker: RelevanceRanker, texts: Sequence[str], k: int = 5) -> list[list[str]]:
    """The ``k`` strongest terms of each text under a fitted ranker (see RelevanceRanker.strongest_terms):
    terms t with coef_t x tfidf_t(text) > 0, largest first; [] for a text with none."""
    if not ranker.fits:
        raise RuntimeError("fit the ranker first")
    idx = next((i for i, c in enumerate(ranker.components) if c.features == "word"),
               next((i for i, c in enumerate(ranker.components) if c.features == "union"), 0))
    comp = ranker.components[idx]
    coef = ranker.fits[idx][0]
    vec = ranker.vectorizers[comp.features]
    names = vec.get_feature_names_out()
    X = ranker.transform(comp.features, texts).tocsr()
    if comp.features == "union":   # the word part only (readable terms)
        X, coef = X[:, :vec.sizes_[0]].tocsr(), coef[:vec.sizes_[0]]
    out: list[list[str]] = []
    for i in range(X.shape[0]):
        cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
        contrib = X.data[X.indptr[i]:X.indptr[i + 1]] * coef[cols]
        order = np.argsort(-contrib, kind="stable")
        terms: list[str] = []
        for j in order:
            if contrib[j] <= 0 or len(terms) >= k:
                break
            term = str(names[cols[j]]).strip()
            if term and term not in terms:
                terms.append(term)
        out.append(terms)
    return out


def rank_queue(train_texts: Sequence[str], train_labels: Sequence[bool], queue_texts: Sequence[str],
               n_terms: int = 5, model: str = DEFAULT_MODEL) -> dict:
    """Everything the screening job needs in one call: fit on the final title/abstract decisions
    (``train_labels`` True = include) and rank ``queue_texts``.

    Returns ``{"scores": [float per queue record], "strongest_terms": [[term, ...] per queue record],
    "method": description, "model": model name}``; raises ValueError without both classes."""
    r = RelevanceRanker(model).fit(train_texts, train_labels, extra_texts=queue_texts)
    return {"scores": [float(v) for v in r.score(queue_texts)],
            "strongest_terms": r.strongest_terms(queue_texts, n_terms) if n_terms else [[] for _ in queue_texts],
            "method": r.describe(), "model": model}


# --------------------------------------------------------------------------------------------------
# simulation (benchmarks/ and a small sanity test)


def simulate(texts: Sequence[str], labels: Sequence[bool], *, model: str = DEFAULT_MODEL, batch: int = 10,
             n_prior_included: int = 1, n_prior_excluded: int = 1, seed: int = 0,
             prior: Sequence[int] | None = None, matrices: dict | None = None, growth: float = 0.0) -> dict:
    """Simulated screening (ASReview's simulation protocol): start from ``n_prior_included`` +
    ``n_prior_excluded`` random records of each class (the prior knowledge; or the indices ``prior``),
    then repeatedly refit the model on the labels of the records screened so far only and screen the
    ``batch`` highest-ranked unscreened records next ("max" query), until all are screened. TF-IDF is
    fitted once on all texts, without labels (as in the screening job, which fits it on the screened and
    queued records together); ``matrices`` = {features: TF-IDF matrix} reuses matrices already built.
    ``growth`` > 0 screens max(batch, growth x records screened so far) records between refits (fewer
    refits on large sets; the same schedule for every model).

    Returns ``{order (indices in screening order), **screening_metrics}``.
    """
    y = np.asarray(labels, dtype=bool)
    n = len(y)
    rng = np.random.default_rng(seed)
    if prior is None:
        inc = rng.choice(np.flatnonzero(y), size=n_prior_included, replace=False)
        exc = rng.choice(np.flatnonzero(~y), size=n_prior_excluded, replace=False)
        screened = [int(i) for i in inc] + [int(i) for i in exc]
    else:
        screened = [int(i) for i in prior]
    n_prior = len(screened)
    comps = MODELS[model]
    mats = dict(matrices or {})
    for kind in {c.features for c in comps}:
        if kind not in mats:
            mats[kind] = make_vectorizer(kind, n).fit_transform([t or "" for t in texts]).tocsr()
    mask = np.zeros(n, dtype=bool)
    mask[screened] = True
    while not mask.all():
        idx = np.flatnonzero(mask)
        rest = np.flatnonzero(~mask)
        if y[idx].all() or not y[idx].any():
            nxt = rng.choice(rest, size=min(batch, len(rest)), replace=False)
        else:
            step = max(batch, int(growth * len(idx)))
            scores = rank_scores(comps, mats, idx, y[idx], rest, COMBINE.get(model, "zmean"))
            nxt = rest[np.argsort(-scores, kind="stable")[:step]]
        screened.extend(int(i) for i in nxt)
        mask[nxt] = True
    return {"order": screened, **screening_metrics(screened, y, n_prior=n_prior)}


def rank_scores(comps: Sequence[Component], mats: dict, train: np.ndarray, y_train: np.ndarray,
                targets: np.ndarray, how: str = "zmean") -> np.ndarray:
    """Scores of rows ``targets`` after fitting each component on rows ``train`` (labels ``y_train``) of
    the precomputed TF-IDF matrices ``mats`` (one component: its decision values; several: the mean of
    their z-scores over the targets)."""
    raw = []
    for c in comps:
        coef, b = fit_component(c, mats[c.features][train], y_train)
        raw.append(np.asarray(mats[c.features][targets] @ coef).ravel() + b)
    return _combine(comps, raw, how)


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value, highest first (ties in index order)."""
    order = np.argsort(-values, kind="stable")
    r = np.empty(len(values), dtype=float)
    r[order] = np.arange(1, len(values) + 1)
    return r


def _combine(comps: Sequence[Component], raw: list[np.ndarray], how: str = "zmean") -> np.ndarray:
    """One component: its decision values; several: combined by ``how``."""
    if len(raw) == 1:
        return raw[0]
    w = np.array([c.weight for c in comps], dtype=float)
    if how == "zmean":
        return np.tensordot(w / w.sum(), np.array([_standardise(r) for r in raw]), axes=1)
    if how == "zmax":
        return np.max(np.array([_standardise(r) for r in raw]), axis=0)
    if how == "rrf":   # reciprocal-rank fusion, Cormack, Clarke & Buettcher 2009 (k = 60)
        return np.sum([wi / (60.0 + _ranks(r)) for wi, r in zip(w, raw)], axis=0)
    if how == "interleave":   # round robin over the components' rankings, duplicates skipped
        n = len(raw[0])
        orders = [np.argsort(-r, kind="stable") for r in raw]
        pos = np.full(n, -1, dtype=np.int64)
        ptr = [0] * len(raw)
        k = 0
        while k < n:
            for i, o in enumerate(orders):
                while ptr[i] < n and pos[o[ptr[i]]] >= 0:
                    ptr[i] += 1
                if ptr[i] < n:
                    pos[o[ptr[i]]] = k
                    k += 1
        return (n - pos).astype(float)
    raise ValueError(f"unknown combination {how!r}")


def wss_asreview_insights(labels_in_order: Sequence[bool], recall: float = 0.95) -> float:
    """WSS@recall as asreview-insights computes it (``metrics._wss`` / ``algorithms._wss_values``, on the
    labels after the priors): T = the largest include count with T / n_includes <= recall; the T-th
    include was found at (0-based) position r_T; random order "finds" round(n_includes x k / (n - 1))
    includes by position k, so reaches T first at k_T; WSS = (k_T - r_T) / n."""
    y = np.asarray(labels_in_order, dtype=bool)
    n, n_pos = len(y), int(y.sum())
    if n_pos == 0:
        return float("nan")
    x = np.arange(1, n_pos + 1) / n_pos
    T = int(np.searchsorted(x, recall, side="right"))   # x[T-1] <= recall < x[T]
    if T == 0:
        return 0.0
    r_T = int(np.searchsorted(np.cumsum(y), T))
    k_T = int(np.searchsorted(np.round(np.linspace(0, n_pos, n)), T))
    return (k_T - r_T) / n


def screening_metrics(order: Sequence[int], labels: Sequence[bool], n_prior: int = 0, recall: float = 0.95) -> dict:
    """Work saved over sampling and related figures of a screening order.

    * ``wss95`` (Cohen et al. 2006, JAMIA 13:206): (N - records screened when 95 % of the includes were
      found) / N - 0.05, the prior records counted as screened (this project's definition so far);
    * ``wss95_asreview``: asreview-insights' WSS@95 on the records after the priors
      (:func:`wss_asreview_insights`; the definition ASReview's papers report);
    * ``recall_at_10``: share of the includes found after 10 % of the records (priors included);
    * ``n_screened_95``: records screened (priors included) until 95 % of the includes were found.
    """
    y = np.asarray(labels, dtype=bool)
    order = np.asarray(order)
    n, n_inc = len(y), int(y.sum())
    found = np.cumsum(y[order])
    target = math.ceil(recall * n_inc - 1e-9)
    n_screened_95 = int(np.argmax(found >= target)) + 1
    at10 = int(math.ceil(0.10 * n))
    return {"n": n, "n_included": n_inc, "n_prior": n_prior, "n_screened_95": n_screened_95,
            "wss95": (n - n_screened_95) / n - (1 - recall),
            "wss95_asreview": wss_asreview_insights(y[order[n_prior:]], recall),
            "recall_at_10": float(found[at10 - 1]) / n_inc if n_inc else float("nan")}
