"""Relevance ranking on scikit-learn: the models, ASReview's weights, the metrics and the explanations."""
import random

import numpy as np
import pytest

from livingmeta.records import ranking as rk

TOPIC = ["depression", "antidepressant", "rat", "forced", "swim", "fluoxetine", "behaviour", "stress"]
OTHER = ["cancer", "tumour", "chemotherapy", "survival", "trial", "radiotherapy", "breast", "lung"]
FILLER = ["study", "results", "method", "patients", "effect", "group", "analysis", "data", "model", "time"]


def synthetic(n=120, n_inc=20, seed=1):
    rnd = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        inc = i < n_inc
        words = rnd.sample(TOPIC if inc else OTHER, 3) + rnd.sample(FILLER, 5)
        rnd.shuffle(words)
        texts.append(" ".join(words))
        labels.append(inc)
    order = list(range(n))
    rnd.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def test_asreview_balanced_weights_by_hand():
    # 2 includes, 8 excludes, ratio 9.8: include 1, exclude 2 / (9.8 * 8) = 0.02551; rescaled to sum 10
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    w = rk.asreview_balanced_weights(y, 9.8)
    raw_exc = 2 / (9.8 * 8)
    scale = 10 / (2 + 8 * raw_exc)
    assert w[0] == pytest.approx(scale) and w[2] == pytest.approx(raw_exc * scale)
    assert w.sum() == pytest.approx(10)
    assert w[y].sum() / w[~y].sum() == pytest.approx(9.8)
    # scikit-learn's "balanced": n / (2 n_class)
    b = rk.balanced_weights(y)
    assert b[0] == pytest.approx(10 / 4) and b[2] == pytest.approx(10 / 16)


@pytest.mark.parametrize("model", sorted(rk.MODELS))
def test_every_model_ranks_topic_records_first(model):
    texts, labels = synthetic()
    train = list(range(40))
    assert any(labels[i] for i in train) and not all(labels[i] for i in train)
    rest = list(range(40, len(texts)))
    r = rk.RelevanceRanker(model).fit([texts[i] for i in train], [labels[i] for i in train],
                                      extra_texts=[texts[i] for i in rest])
    scores = r.score([texts[i] for i in rest])
    top = np.argsort(-scores)[: sum(labels[i] for i in rest)]
    assert all(labels[rest[j]] for j in top), r.describe()


def test_default_model_and_description():
    assert rk.DEFAULT_MODEL in rk.MODELS
    d = rk.RelevanceRanker().describe()
    assert "tfidf+" in d
    assert "ASReview ELAS u4" in rk.RelevanceRanker("elas_u4").describe()
    with pytest.raises(ValueError):
        rk.RelevanceRanker("no-such-model")
    with pytest.raises(ValueError):
        rk.RelevanceRanker().fit(["a b", "c d"], [True, True])


def test_elas_u4_is_asreviews_configuration():
    (c,) = rk.MODELS["elas_u4"]
    assert (c.features, c.classifier, c.C, c.balance, c.ratio) == ("word", "svm", 0.11, "asreview", 9.8)
    v = rk.make_vectorizer("word", 10)
    assert (v.ngram_range, v.sublinear_tf, v.min_df, v.max_df) == ((1, 2), True, 1, 0.95)


def test_strongest_terms_are_topic_words():
    texts, labels = synthetic()
    r = rk.RelevanceRanker().fit(texts[:60], labels[:60], extra_texts=texts[60:])
    terms = r.strongest_terms(texts[60:], k=3)
    assert len(terms) == 60
    for text, label, t in zip(texts[60:], labels[60:], terms):
        assert len(t) <= 3
        assert all(w in text for term in t for w in term.split())   # terms come from the record
        if label:
            assert t and t[0] in TOPIC, (text, t)


def test_screening_metrics_both_wss_definitions_by_hand():
    # 20 records, 4 includes at screening positions 1, 2, 5, 12; the first 2 records are the priors
    labels = [False] * 20
    for i in (0, 1, 4, 11):
        labels[i] = True
    m = rk.screening_metrics(list(range(20)), labels, n_prior=2)
    # Cohen 2006, priors counted: 95% of 4 -> 4 found after 12 -> (20 - 12)/20 - 0.05 = 0.35
    assert m["n_screened_95"] == 12 and m["wss95"] == pytest.approx(0.35)
    # asreview-insights: after the 2 priors, 18 records with 2 includes at 0-based positions 2 and 9.
    # T = largest t with t/2 <= 0.95 -> 1; the 1st include at position 2; random order finds
    # round(2k/17) >= 1 first at k = 5 (10/17 = 0.59 -> 1); WSS = (5 - 2)/18
    assert m["wss95_asreview"] == pytest.approx(3 / 18)
    assert m["recall_at_10"] == pytest.approx(0.5)


def test_wss_asreview_insights_by_hand():
    # 10 records, 4 includes at 0-based positions 0, 1, 2, 6: T = floor-like(0.95 * 4) = 3 (3/4 <= 0.95),
    # the 3rd include at position 2; random: round(4k/9) >= 3 first at k = 6 (24/9 = 2.67 -> 3): (6 - 2)/10
    labels = [1, 1, 1, 0, 0, 0, 1, 0, 0, 0]
    assert rk.wss_asreview_insights(labels) == pytest.approx(0.4)
    # all includes last: worse than random, negative
    assert rk.wss_asreview_insights([0] * 8 + [1, 1]) < 0


def test_simulate_finds_includes_early_and_growth_schedule_covers_all():
    texts, labels = synthetic(n=150, n_inc=15, seed=3)
    for growth in (0.0, 0.1):
        out = rk.simulate(texts, labels, model="elas_u4", batch=5, seed=0, growth=growth)
        assert sorted(out["order"]) == list(range(150))
        assert out["n_screened_95"] < 60       # random order would need ~ 0.95 * 150 = 143
        assert out["wss95_asreview"] > 0.3


def test_fast_char_wb_tfidf_equals_scikit_learns():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, _ = synthetic(n=60)
    texts = texts + ["Anti-depressant  ÉTUDE\tx y", "", "a bb ccc dddd-eeeee fluoxetine's"]
    ref = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2).fit(texts)
    fast = rk.CharWbTfidf(ngram_range=(3, 5), min_df=2).fit(texts)
    assert list(fast.get_feature_names_out()) == list(ref.get_feature_names_out())
    new = ["Fluoxetine rat stress unseenword", "", texts[0]]
    for batch in (texts, new):
        assert abs(fast.transform(batch) - ref.transform(batch)).max() < 1e-6
    assert abs(rk.CharWbTfidf(min_df=2).fit_transform(texts) - ref.transform(texts)).max() < 1e-6


def test_rank_queue_returns_scores_terms_and_method():
    texts, labels = synthetic()
    out = rk.rank_queue(texts[:50], labels[:50], texts[50:], n_terms=2)
    assert len(out["scores"]) == len(out["strongest_terms"]) == 70
    assert out["model"] == rk.DEFAULT_MODEL and out["method"] == rk.RelevanceRanker().describe()
    best = int(np.argmax(out["scores"]))
    assert labels[50 + best] and out["strongest_terms"][best][0] in TOPIC


def test_reciprocal_rank_fusion_and_interleaving_by_hand():
    comps = (rk.Component("word", "svm", 0.11, "asreview", 9.8), rk.Component("char", "svm", 0.11, "asreview", 9.8))
    a = np.array([3.0, 2.0, 1.0, 0.0])     # ranks 1 2 3 4
    b = np.array([0.0, 1.0, 3.0, 2.0])     # ranks 4 3 1 2
    # Cormack et al. 2009: sum over rankings of 1 / (60 + rank)
    rrf = rk._combine(comps, [a, b], "rrf")
    assert rrf == pytest.approx([1 / 61 + 1 / 64, 1 / 62 + 1 / 63, 1 / 63 + 1 / 61, 1 / 64 + 1 / 62])
    # round robin: a's best (0), b's best (2), a's next unseen (1), b's next unseen (3)
    order = np.argsort(-rk._combine(comps, [a, b], "interleave"), kind="stable")
    assert list(order) == [0, 2, 1, 3]
    # z-scores: mean, maximum
    za, zb = (a - a.mean()) / a.std(), (b - b.mean()) / b.std()
    assert rk._combine(comps, [a, b], "zmean") == pytest.approx((za + zb) / 2)
    assert rk._combine(comps, [a, b], "zmax") == pytest.approx(np.maximum(za, zb))
    with pytest.raises(ValueError):
        rk._combine(comps, [a, b], "borda")


def test_naive_bayes_component_is_sklearns_log_odds():
    from sklearn.naive_bayes import MultinomialNB

    texts, labels = synthetic(n=60, n_inc=12)
    X = rk.make_vectorizer("word", len(texts)).fit_transform(texts)
    y = np.asarray(labels)
    comp = rk.MODELS["nb_word"][0]
    coef, b = rk.fit_component(comp, X, y)
    ref = MultinomialNB(alpha=3.822).fit(X, y.astype(int), sample_weight=rk.asreview_balanced_weights(y, 9.8))
    jl = ref.predict_joint_log_proba(X)
    assert np.asarray(X @ coef).ravel() + b == pytest.approx(jl[:, 1] - jl[:, 0], rel=1e-5, abs=1e-6)


def test_union_tfidf_puts_word_and_char_tfidf_side_by_side():
    texts, labels = synthetic(n=50)
    u = rk.make_vectorizer("union", len(texts))
    X = u.fit_transform(texts)
    W = rk.make_vectorizer("word", len(texts)).fit_transform(texts)
    C = rk.make_vectorizer("char", len(texts)).fit_transform(texts)
    assert u.sizes_ == [W.shape[1], C.shape[1]] and X.shape[1] == W.shape[1] + C.shape[1]
    assert abs(X[:, :W.shape[1]] * np.sqrt(2) - W).max() < 1e-6
    assert abs(X[:, W.shape[1]:] * np.sqrt(2) - C).max() < 1e-6
    assert np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()) == pytest.approx(1.0, abs=1e-5)
    assert abs(u.transform(texts[:5]) - X[:5]).max() < 1e-6
    # its explanations come from the word part: whole words of the record
    r = rk.RelevanceRanker("union_svm").fit(texts[:30], labels[:30], extra_texts=texts[30:])
    for text, t in zip(texts[30:], r.strongest_terms(texts[30:], k=3)):
        assert all(w in text.split() for term in t for w in term.split()), (text, t)   # words / word pairs
    assert "side by side" in r.describe()


def test_benchmark_bootstrap_recomputes_both_wss_from_include_positions():
    # bench_screening --bootstrap recomputes WSS@95 from the includes' screening positions alone; with
    # the includes as they are it must give screening_metrics' figures (here a simulated order)
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_screening import _wss_from_positions

    texts, labels = synthetic(n=150, n_inc=15, seed=3)
    out = rk.simulate(texts, labels, model="elas_u4", batch=5, seed=1)
    pos = [k for k, i in enumerate(out["order"]) if labels[i]]
    cohen, insights = _wss_from_positions(pos, out["n"], out["n_prior"])
    assert cohen == pytest.approx(out["wss95"]) and insights == pytest.approx(out["wss95_asreview"])
    # an order found by hand: includes at 0-based positions 0 (the prior), 3, 5 of 20 records, 2 priors
    order_labels = [i in (0, 3, 5) for i in range(20)]
    m = rk.screening_metrics(list(range(20)), order_labels, n_prior=2)
    assert _wss_from_positions([0, 3, 5], 20, 2) == pytest.approx((m["wss95"], m["wss95_asreview"]))
