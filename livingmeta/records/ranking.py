"""Relevance ranking of records still to screen, learned from the title/abstract decisions so far.

Default model (the screening job's): TF-IDF of character 3- to 5-grams taken inside word boundaries
(scikit-learn's ``char_wb`` analyzer; sublinear tf, smooth idf, L2 norm) of title + abstract (+ keywords)
and a class-balanced, L2-penalised logistic regression (C = 1) fitted by L-BFGS. Character n-grams match
word stems and variants (depress-ion/-ive/anti-depress-ant, drug name stems), which matters most for the
records that have a title only. Word/word-pair TF-IDF and multinomial naive Bayes remain as options.
Written on numpy + scipy (already project dependencies) so no machine-learning library is needed; the
screening job imports this module only when ranking is enabled and there are decisions to learn from.

``benchmarks/bench_screening.py`` simulates screening of a labelled data set with this ranker and
prints WSS@95 and recall after 10% screened.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np
from scipy import sparse

# A short English stop list (function words only; domain words are left to IDF).
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just may me
might more most must my myself no nor not now of off on once only or other our ours ourselves out over
own same shall she should so some such than that the their theirs them themselves then there these
they this those through thus to too under until up upon very via was we were what when where which
while who whom why will with within without would you your yours yourself yourselves et al
""".split())

_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-]*[a-z0-9]|[a-z]")


_WHITESPACE = re.compile(r"\s\s+")


def char_ngrams(text: str, ngram_min: int = 3, ngram_max: int = 5) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space (scikit-learn's
    ``analyzer="char_wb"``): "rat" -> " ra", "rat", "at ", " rat", "rat ", " rat "."""
    grams: list[str] = []
    for word in _WHITESPACE.sub(" ", (text or "").lower()).split():
        w = f" {word} "
        size = len(w)
        for n in range(ngram_min, ngram_max + 1):
            if n > size:
                break
            grams.extend(w[i:i + n] for i in range(size - n + 1))
    return grams


def tokenize(text: str, ngram_max: int = 1) -> list[str]:
    words = [w for w in _TOKEN.findall((text or "").lower()) if w not in STOP_WORDS and not w.isdigit()]
    terms = list(words)
    for n in range(2, ngram_max + 1):
        terms.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return terms


class TfidfVectorizer:
    """Sublinear-tf, smooth-idf, L2-normalised TF-IDF (the scikit-learn conventions).

    ``analyzer="word"``: words and word n-grams up to ``ngram_max`` (stop words removed);
    ``analyzer="char_wb"``: character ``ngram_min``- to ``ngram_max``-grams inside word boundaries."""

    def __init__(self, ngram_max: int = 1, min_df: int = 1, max_df: float = 1.0, sublinear_tf: bool = True,
                 analyzer: str = "word", ngram_min: int = 1):
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"unknown analyzer {analyzer!r}")
        self.analyzer = analyzer
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.vocabulary: dict[str, int] = {}
        self.idf: np.ndarray | None = None

    def terms(self, text: str) -> list[str]:
        if self.analyzer == "char_wb":
            return char_ngrams(text, self.ngram_min, self.ngram_max)
        return tokenize(text, self.ngram_max)

    def fit(self, texts: Iterable[str]) -> "TfidfVectorizer":
        docs = [set(self.terms(t)) for t in texts]
        df = Counter(term for doc in docs for term in doc)
        n = max(len(docs), 1)
        max_count = self.max_df * n if isinstance(self.max_df, float) else self.max_df
        terms = sorted(t for t, c in df.items() if c >= self.min_df and c <= max_count)
        self.vocabulary = {t: i for i, t in enumerate(terms)}
        dfs = np.array([df[t] for t in terms], dtype=float)
        self.idf = np.log((1.0 + n) / (1.0 + dfs)) + 1.0
        return self

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for text in texts:
            vocab = self.vocabulary
            counts = Counter(vocab[t] for t in self.terms(text) if t in vocab)
            for j, c in sorted(counts.items()):
                indices.append(j)
                data.append((1.0 + math.log(c)) if self.sublinear_tf else float(c))
            indptr.append(len(indices))
        X = sparse.csr_matrix((np.array(data, dtype=float), np.array(indices, dtype=np.int64),
                               np.array(indptr, dtype=np.int64)), shape=(len(indptr) - 1, len(self.vocabulary)))
        if self.idf is not None and X.nnz:
            X = X @ sparse.diags(self.idf)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ X)

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.fit(texts).transform(texts)


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Sample weights n / (2 n_class) so both classes weigh the same (scikit-learn's "balanced")."""
    n, n1 = len(y), int(y.sum())
    n0 = n - n1
    w = np.empty(n)
    w[y == 1] = n / (2.0 * max(n1, 1))
    w[y == 0] = n / (2.0 * max(n0, 1))
    return w


def _logistic_loss(m: np.ndarray, st: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-record log(1 + exp(-m)) and s_i t_i / (1 + exp(m)) for margins m = t (x w + b)."""
    return np.logaddexp(0.0, -m), st * 0.5 * (1.0 + np.tanh(-0.5 * m))  # overflow-free 1/(1+exp(m))


def fit_logistic_gram(K: np.ndarray, y: np.ndarray, C: float = 1.0, sample_weight: np.ndarray | None = None,
                      max_iter: int = 5000, tol: float = 1e-6,
                      init: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The L2-penalised logistic regression of ``fit_logistic`` solved in its representer form: the
    optimal w is a combination X^T a of the training rows, so with the Gram matrix K = X X^T the problem
    is minimise 0.5 a'Ka + C sum_i s_i log(1 + exp(-t_i ((Ka)_i + b))) over a (one value per training
    record) and b: the same optimum, in n instead of p (vocabulary size) unknowns. Returns (a, b);
    ``init`` = (a, b) starts the search there (e.g. the previous fit with zeros for new records)."""
    from scipy.optimize import minimize  # imported here: only the ranker needs it

    K = np.asarray(K, dtype=float)
    n = K.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    t = np.where(np.asarray(y) > 0, 1.0, -1.0)
    st = s * t

    def objective(theta):
        a, b = theta[:-1], theta[-1]
        Ka = K @ a
        loss, r = _logistic_loss(t * (Ka + b), st)
        grad = np.empty(n + 1)
        grad[:-1] = Ka - C * (K @ r)
        grad[-1] = -C * r.sum()
        return 0.5 * float(a @ Ka) + C * float(s @ loss), grad

    theta0 = np.zeros(n + 1) if init is None else np.asarray(init, dtype=float)
    res = minimize(objective, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": tol, "maxcor": 20})
    return res.x[:-1].copy(), float(res.x[-1])


GRAM_MAX_RECORDS = 4000  # up to this many training records the Gram form is used (dense n x n matrix)


def fit_logistic(X, y: np.ndarray, C: float = 1.0, sample_weight: np.ndarray | None = None,
                 max_iter: int = 5000, tol: float = 1e-6) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression, the objective of scikit-learn's LogisticRegression(C):
    minimise 0.5 |w|^2 + C sum_i s_i log(1 + exp(-t_i (x_i w + b))), t = +-1, intercept b not penalised,
    by L-BFGS (scipy.optimize). With fewer training records than terms (the usual case) it is solved in
    the representer form (``fit_logistic_gram``), which is much faster and gives the same (w, b)."""
    from scipy.optimize import minimize  # imported here: only the ranker needs it

    X = sparse.csr_matrix(X)
    n, p = X.shape
    if n <= min(p, GRAM_MAX_RECORDS):
        a, b = fit_logistic_gram((X @ X.T).toarray(), y, C=C, sample_weight=sample_weight,
                                 max_iter=max_iter, tol=tol)
        return np.asarray(X.T @ a).ravel(), b
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    t = np.where(np.asarray(y) > 0, 1.0, -1.0)
    st = s * t

    def objective(theta):
        w, b = theta[:-1], theta[-1]
        loss, r = _logistic_loss(t * (X @ w + b), st)
        grad = np.empty(p + 1)
        grad[:-1] = w - C * (X.T @ r)
        grad[-1] = -C * r.sum()
        return 0.5 * float(w @ w) + C * float(s @ loss), grad

    res = minimize(objective, np.zeros(p + 1), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": tol, "maxcor": 20})
    return res.x[:-1].copy(), float(res.x[-1])


def fit_naive_bayes(X, y: np.ndarray, alpha: float = 3.822) -> np.ndarray:
    """Multinomial naive Bayes on TF-IDF weights; returns the per-term log-odds weights (class 1 vs 0).
    alpha = 3.822 is ASReview's tuned default for TF-IDF features."""
    y = np.asarray(y).astype(bool)
    f1 = np.asarray(X[y].sum(axis=0)).ravel() + alpha
    f0 = np.asarray(X[~y].sum(axis=0)).ravel() + alpha
    return np.log(f1 / f1.sum()) - np.log(f0 / f0.sum())


FEATURES = {"char": ("char_wb", (3, 5)), "word": ("word", (1, 2))}


class RelevanceRanker:
    """Learns include/exclude from screened records and scores unscreened ones (higher = more relevant).

    ``features``: ``"char"`` (default; character 3- to 5-grams within words) or ``"word"`` (words and word
    pairs); ``ngram`` overrides the (min, max) n-gram lengths. ``model``: ``"logistic"`` (default;
    class-balanced, L2 penalty 1/C) or ``"naive_bayes"`` (multinomial, smoothing ``alpha``)."""

    def __init__(self, model: str = "logistic", C: float = 1.0, features: str = "char",
                 ngram: tuple[int, int] | None = None, min_df: int | None = None, alpha: float = 3.822):
        if model not in ("logistic", "naive_bayes"):
            raise ValueError(f"unknown model {model!r}")
        if features not in FEATURES:
            raise ValueError(f"unknown features {features!r} (char or word)")
        analyzer, default_ngram = FEATURES[features]
        lo, hi = ngram or default_ngram
        self.model = model
        self.features = features
        self.C = C
        self.alpha = alpha
        self.min_df = min_df  # None: 2 for 100 or more texts (terms seen once carry no signal), else 1
        self.vectorizer = TfidfVectorizer(ngram_max=hi, ngram_min=lo, min_df=min_df or 1, analyzer=analyzer)
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    def describe(self) -> str:
        v = self.vectorizer
        feats = (f"char {v.ngram_min}-{v.ngram_max}-grams" if v.analyzer == "char_wb"
                 else f"word 1-{v.ngram_max}-grams")
        if self.model == "logistic":
            return f"tfidf+logistic ({feats}, C={self.C:g}, balanced)"
        return f"tfidf+naive_bayes ({feats}, alpha={self.alpha:g})"

    def fit(self, texts: Sequence[str], labels: Sequence[bool], extra_texts: Sequence[str] = ()) -> "RelevanceRanker":
        """Fit TF-IDF on all texts (screened and to-be-screened) and the model on the screened ones."""
        corpus = list(texts) + list(extra_texts)
        if self.min_df is None:
            self.vectorizer.min_df = 2 if len(corpus) >= 100 else 1
        self.vectorizer.fit(corpus)
        return self.fit_matrix(self.vectorizer.transform(texts), labels)

    def fit_matrix(self, X, labels: Sequence[bool]) -> "RelevanceRanker":
        y = np.asarray(labels, dtype=float)
        if self.model == "logistic":
            self.coef, self.intercept = fit_logistic(X, y, C=self.C, sample_weight=balanced_weights(y))
        else:
            self.coef, self.intercept = fit_naive_bayes(X, y, self.alpha), 0.0
        return self

    def score(self, texts: Sequence[str]) -> np.ndarray:
        return self.score_matrix(self.vectorizer.transform(texts))

    def score_matrix(self, X) -> np.ndarray:
        if self.coef is None:
            raise RuntimeError("fit the ranker first")
        raw = X @ self.coef + self.intercept
        if self.model == "logistic":
            return 0.5 * (1.0 + np.tanh(0.5 * raw))  # predicted probability of inclusion
        return np.asarray(raw)


# --------------------------------------------------------------------------------------------------
# simulation (used by benchmarks/bench_screening.py and a small sanity test)


def simulate(texts: Sequence[str], labels: Sequence[bool], *, model: str = "logistic", C: float = 1.0,
             features: str = "char", ngram: tuple[int, int] | None = None, min_df: int | None = None,
             batch: int = 10, n_prior_included: int = 1, n_prior_excluded: int = 1, seed: int = 0) -> dict:
    """Simulated screening (certainty-based active learning, ASReview's "max" query strategy): start from
    ``n_prior_included`` + ``n_prior_excluded`` random records of each class (the prior knowledge), then
    repeatedly refit the ranker on the labels of the records screened so far only (class-balanced
    weights) and screen the ``batch`` highest-ranked unscreened records next, until all are screened.
    TF-IDF is fitted once on all texts without labels (as in the screening job, which fits it on the
    screened and queued records together).

    Returns ``{order (indices in screening order), wss95, recall_at_10, n, n_included, n_prior,
    n_screened_95}``.
    """
    y = np.asarray(labels, dtype=bool)
    n = len(y)
    rng = np.random.default_rng(seed)
    inc = rng.choice(np.flatnonzero(y), size=n_prior_included, replace=False)
    exc = rng.choice(np.flatnonzero(~y), size=n_prior_excluded, replace=False)
    ranker = RelevanceRanker(model=model, C=C, features=features, ngram=ngram, min_df=min_df)
    if min_df is None:
        ranker.vectorizer.min_df = 2 if len(texts) >= 100 else 1
    X = ranker.vectorizer.fit_transform(texts)
    # logistic: refits in the representer form on the Gram matrix of all records (computed once)
    gram = (X @ X.T).toarray() if model == "logistic" else None
    screened = [int(i) for i in inc] + [int(i) for i in exc]
    mask = np.zeros(n, dtype=bool)
    mask[screened] = True
    dual = np.zeros(n + 1)  # logistic: the last fit's a (per record) and b, the next fit's start
    while not mask.all():
        idx = np.flatnonzero(mask)
        rest = np.flatnonzero(~mask)
        if y[idx].all() or not y[idx].any():
            nxt = rng.choice(rest, size=min(batch, len(rest)), replace=False)
        else:
            if gram is not None:
                a, b = fit_logistic_gram(gram[np.ix_(idx, idx)], y[idx], C=C,
                                         sample_weight=balanced_weights(y[idx].astype(float)),
                                         init=np.append(dual[idx], dual[-1]))
                dual[idx], dual[-1] = a, b
                scores = gram[np.ix_(rest, idx)] @ a + b
            else:
                scores = ranker.fit_matrix(X[idx], y[idx]).score_matrix(X[rest])
            nxt = rest[np.argsort(-scores, kind="stable")[:batch]]
        screened.extend(int(i) for i in nxt)
        mask[nxt] = True
    return {"order": screened, **screening_metrics(screened, y, n_prior=len(inc) + len(exc))}


def screening_metrics(order: Sequence[int], labels: Sequence[bool], n_prior: int = 0) -> dict:
    """WSS@95 (Cohen et al. 2006) and recall after 10% of the records were screened.

    WSS@95 = (records not screened when 95% of the relevant records were found) / N - 0.05. The prior
    records count as screened (they were read by someone)."""
    y = np.asarray(labels, dtype=bool)
    n, n_inc = len(y), int(y.sum())
    found = np.cumsum(y[np.asarray(order)])
    target = math.ceil(0.95 * n_inc)
    n_screened_95 = int(np.argmax(found >= target)) + 1
    at10 = int(math.ceil(0.10 * n))
    return {"n": n, "n_included": n_inc, "n_prior": n_prior, "n_screened_95": n_screened_95,
            "wss95": (n - n_screened_95) / n - 0.05, "recall_at_10": float(found[at10 - 1]) / n_inc}
