"""Relevance ranking of records still to screen, learned from the title/abstract decisions so far.

TF-IDF features (words and word pairs) of title + abstract (+ keywords) and a linear model: a
class-balanced, L2-penalised logistic regression (default, C = 100) or multinomial naive Bayes. Written on numpy + scipy.sparse (already
project dependencies) so no machine-learning library is needed; the screening job imports this module
only when ranking is enabled and there are decisions to learn from.

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


def tokenize(text: str, ngram_max: int = 1) -> list[str]:
    words = [w for w in _TOKEN.findall((text or "").lower()) if w not in STOP_WORDS and not w.isdigit()]
    terms = list(words)
    for n in range(2, ngram_max + 1):
        terms.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
    return terms


class TfidfVectorizer:
    """Sublinear-tf, smooth-idf, L2-normalised TF-IDF (the scikit-learn conventions)."""

    def __init__(self, ngram_max: int = 1, min_df: int = 1, max_df: float = 1.0, sublinear_tf: bool = True):
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.vocabulary: dict[str, int] = {}
        self.idf: np.ndarray | None = None

    def fit(self, texts: Iterable[str]) -> "TfidfVectorizer":
        docs = [set(tokenize(t, self.ngram_max)) for t in texts]
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
            counts = Counter(self.vocabulary[t] for t in tokenize(text, self.ngram_max) if t in self.vocabulary)
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


def fit_logistic(X, y: np.ndarray, C: float = 1.0, sample_weight: np.ndarray | None = None,
                 max_iter: int = 500, tol: float = 1e-6, init: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression (objective of scikit-learn's LogisticRegression(C)):
    minimise 0.5 |w|^2 + C sum_i s_i log(1 + exp(-t_i (x_i w + b))), t = +-1, by accelerated gradient
    descent (Nesterov, constant step 1/L with L from the largest singular value of [X 1])."""
    n, p = X.shape
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    t = np.where(np.asarray(y) > 0, 1.0, -1.0)
    # Lipschitz constant of the gradient: 1 + C * 0.25 * max(s) * sigma_max([X 1])^2
    Xa = sparse.hstack([X, np.ones((n, 1))]).tocsr()
    v = np.ones(p + 1) / math.sqrt(p + 1)
    for _ in range(30):
        u = Xa.T @ (Xa @ v)
        norm = np.linalg.norm(u)
        if norm == 0:
            break
        v = u / norm
    sigma2 = float(v @ (Xa.T @ (Xa @ v)))
    L = 1.0 + C * 0.25 * float(s.max()) * max(sigma2, 1e-12)
    step = 1.0 / L
    theta = np.zeros(p + 1) if init is None else np.array(init, dtype=float)
    z = theta.copy()
    k_prev = 1.0
    penalty = np.ones(p + 1)
    penalty[-1] = 0.0  # intercept not penalised

    def grad(th):
        m = t * (Xa @ th)
        sig = 0.5 * (1.0 + np.tanh(-0.5 * m))  # = 1 / (1 + exp(m)), overflow-free
        return penalty * th - C * (Xa.T @ (s * t * sig))

    for _ in range(max_iter):
        new = z - step * grad(z)
        k = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * k_prev * k_prev))
        z = new + ((k_prev - 1.0) / k) * (new - theta)
        change = np.max(np.abs(new - theta))
        theta = new
        k_prev = k
        if change < tol:
            break
    return theta[:-1], float(theta[-1])


def fit_naive_bayes(X, y: np.ndarray, alpha: float = 3.822) -> np.ndarray:
    """Multinomial naive Bayes on TF-IDF weights; returns the per-term log-odds weights (class 1 vs 0).
    alpha = 3.822 is ASReview's tuned default for TF-IDF features."""
    y = np.asarray(y).astype(bool)
    f1 = np.asarray(X[y].sum(axis=0)).ravel() + alpha
    f0 = np.asarray(X[~y].sum(axis=0)).ravel() + alpha
    return np.log(f1 / f1.sum()) - np.log(f0 / f0.sum())


class RelevanceRanker:
    """Learns include/exclude from screened records and scores unscreened ones (higher = more relevant)."""

    def __init__(self, model: str = "logistic", C: float = 100.0, ngram_max: int = 2, min_df: int | None = None,
                 alpha: float = 3.822):
        if model not in ("logistic", "naive_bayes"):
            raise ValueError(f"unknown model {model!r}")
        self.model = model
        self.C = C
        self.alpha = alpha
        self.min_df = min_df  # None: 2 for 100 or more texts (terms seen once carry no signal), else 1
        self.vectorizer = TfidfVectorizer(ngram_max=ngram_max, min_df=min_df or 1)
        self.coef: np.ndarray | None = None
        self.intercept = 0.0

    def describe(self) -> str:
        if self.model == "logistic":
            return f"tfidf+logistic (C={self.C:g}, balanced, ngram_max={self.vectorizer.ngram_max})"
        return f"tfidf+naive_bayes (alpha={self.alpha:g}, ngram_max={self.vectorizer.ngram_max})"

    def fit(self, texts: Sequence[str], labels: Sequence[bool], extra_texts: Sequence[str] = ()) -> "RelevanceRanker":
        """Fit TF-IDF on all texts (screened and to-be-screened) and the model on the screened ones."""
        corpus = list(texts) + list(extra_texts)
        if self.min_df is None:
            self.vectorizer.min_df = 2 if len(corpus) >= 100 else 1
        self.vectorizer.fit(corpus)
        return self.fit_matrix(self.vectorizer.transform(texts), labels)

    def fit_matrix(self, X, labels: Sequence[bool], warm_start: bool = False) -> "RelevanceRanker":
        y = np.asarray(labels, dtype=float)
        if self.model == "logistic":
            init = None
            if warm_start and self.coef is not None and len(self.coef) == X.shape[1]:
                init = np.append(self.coef, self.intercept)
            self.coef, self.intercept = fit_logistic(X, y, C=self.C, sample_weight=balanced_weights(y), init=init)
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


def simulate(texts: Sequence[str], labels: Sequence[bool], *, model: str = "logistic", C: float = 100.0,
             ngram_max: int = 2, min_df: int | None = None, batch: int = 10, n_prior_included: int = 1, n_prior_excluded: int = 1,
             seed: int = 0) -> dict:
    """Simulated screening: start from a few random prior decisions, then repeatedly fit the ranker on
    everything screened so far and screen the ``batch`` highest-ranked records next.

    Returns ``{order (indices in screening order), wss95, recall_at_10, n, n_included}``.
    """
    y = np.asarray(labels, dtype=bool)
    n = len(y)
    rng = np.random.default_rng(seed)
    inc = rng.choice(np.flatnonzero(y), size=n_prior_included, replace=False)
    exc = rng.choice(np.flatnonzero(~y), size=n_prior_excluded, replace=False)
    ranker = RelevanceRanker(model=model, C=C, ngram_max=ngram_max, min_df=min_df)
    if min_df is None:
        ranker.vectorizer.min_df = 2 if len(texts) >= 100 else 1
    X = ranker.vectorizer.fit_transform(texts)
    screened = list(inc) + list(exc)
    mask = np.zeros(n, dtype=bool)
    mask[screened] = True
    while not mask.all():
        idx = np.flatnonzero(mask)
        if y[idx].all() or not y[idx].any():
            nxt = rng.choice(np.flatnonzero(~mask), size=min(batch, int((~mask).sum())), replace=False)
        else:
            ranker.fit_matrix(X[idx], y[idx], warm_start=True)
            rest = np.flatnonzero(~mask)
            scores = ranker.score_matrix(X[rest])
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
