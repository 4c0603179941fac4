"""Agreement statistics against hand-computed and published worked examples."""
import math

import pytest

from livingmeta.records.agreement import agreement, agreement_from_table, contingency


def pairs_from_table(a, b, c, d):
    """rows = rater 1 (include, exclude), columns = rater 2 (include, exclude)."""
    return ([("include", "include")] * a + [("include", "exclude")] * b
            + [("exclude", "include")] * c + [("exclude", "exclude")] * d)


def test_wikipedia_worked_example():
    # Cohen's kappa, Wikipedia "Cohen's kappa", worked example: 50 grant proposals, both Yes 20,
    # A yes/B no 5, A no/B yes 10, both No 15. p_o = 35/50 = 0.7; A says yes 25/50, B says yes 30/50;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5)/(1 - 0.5) = 0.4. PABAK = 2*0.7 - 1 = 0.4.
    out = agreement(pairs_from_table(20, 5, 10, 15), ["include", "exclude"])
    assert out["n"] == 50
    assert out["percent_agreement"] == pytest.approx(70.0)
    assert out["expected_agreement"] == pytest.approx(0.5)
    assert out["kappa"] == pytest.approx(0.4)
    assert out["pabak"] == pytest.approx(0.4)
    assert out["table"] == [[20, 5], [10, 15]]


@pytest.mark.parametrize("table, po, kappa, pabak", [
    # Feinstein & Cicchetti (1990) "High agreement but low kappa: I. The problems of two paradoxes",
    # J Clin Epidemiol 43:543-9, the two tables of 100 items with kappa 0.32 and 0.13 as published.
    # By hand: (a) p_o = 0.85, p_e = 0.90*0.85 + 0.10*0.15 = 0.78, kappa = 0.07/0.22 = 0.3182;
    #          (b) p_o = 0.60, p_e = 0.60*0.70 + 0.40*0.30 = 0.54, kappa = 0.06/0.46 = 0.1304.
    ([[80, 10], [5, 5]], 85.0, 0.07 / 0.22, 0.70),
    ([[45, 15], [25, 15]], 60.0, 0.06 / 0.46, 0.20),
])
def test_feinstein_cicchetti_paradox_tables(table, po, kappa, pabak):
    out = agreement_from_table(table, ["include", "exclude"])
    assert out["percent_agreement"] == pytest.approx(po)
    assert out["kappa"] == pytest.approx(kappa)
    assert round(out["kappa"], 2) == round(kappa, 2)
    assert out["pabak"] == pytest.approx(pabak)


def test_kappa_standard_error_fleiss_cohen_everitt():
    # Large-sample SE of kappa (Fleiss, Cohen & Everitt 1969), computed by hand for the Wikipedia table
    # (n = 50, p = [[.4, .1], [.2, .3]], rows .5/.5, columns .6/.4, kappa = .4, p_e = .5):
    # A = .4*(1-(.5+.6)*.6)^2 + .3*(1-(.5+.4)*.6)^2 = .4*.1156 + .3*.2116 = .10972
    # B = .6^2 * (.1*(.6+.5)^2 + .2*(.4+.5)^2) = .36 * (.121 + .162) = .10188
    # C = (.4 - .5*.6)^2 = .01 ; var = (A + B - C)/(n (1 - p_e)^2) = .2016/12.5 = .016128
    out = agreement_from_table([[20, 5], [10, 15]])
    assert out["kappa_se"] == pytest.approx(math.sqrt(0.016128))
    assert out["kappa_ci_lb"] == pytest.approx(0.4 - 1.959963984540054 * math.sqrt(0.016128))


def test_perfect_agreement_on_one_category_has_no_kappa():
    out = agreement([("exclude", "exclude")] * 12, ["include", "exclude"])
    assert out["percent_agreement"] == 100.0
    assert out["kappa"] is None           # p_e = 1: undefined
    assert out["pabak"] == pytest.approx(1.0)


def test_empty_and_bad_input():
    out = agreement([], ["include", "exclude"])
    assert out["n"] == 0 and out["kappa"] is None and out["percent_agreement"] is None
    with pytest.raises(ValueError):
        contingency([("include", "maybe")], ["include", "exclude"])


def test_total_disagreement_is_negative():
    out = agreement(pairs_from_table(0, 5, 5, 0), ["include", "exclude"])
    assert out["kappa"] == pytest.approx(-1.0)
    assert out["pabak"] == pytest.approx(-1.0)


def test_one_rater_using_one_category_has_no_interval():
    # Rater 1 excluded all 4, rater 2 included one: p_o = 0.75, p_e = 0*0.25 + 1*0.75 = 0.75, kappa = 0;
    # the Fleiss-Cohen-Everitt variance is exactly 0 here, which would give a misleading [0, 0] interval.
    out = agreement_from_table([[0, 0], [1, 3]], ["include", "exclude"])
    assert out["kappa"] == pytest.approx(0.0)
    assert out["pabak"] == pytest.approx(0.5)
    assert out["kappa_se"] is None and out["kappa_ci_lb"] is None and out["kappa_ci_ub"] is None
