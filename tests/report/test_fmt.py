"""Number formatting of the report (tables, figure labels): minus signs, p values, missing values."""
import pytest

from livingmeta.report import fmt


@pytest.mark.parametrize("x, expected", [(-1.234, "\u22121.23"), (2.0, "2.00"), (-0.001, "0.00"), (None, "—"),
                                         (float("nan"), "—"), (True, "—")])
def test_num(x, expected):
    assert fmt.num(x) == expected


@pytest.mark.parametrize("p, expected", [(0.23456, "0.23"), (0.0134, "0.013"), (0.05, "0.050"),
                                         (0.00042, "0.0004"), (3e-7, "< 0.0001"), (None, "—")])
def test_pval(p, expected):
    assert fmt.pval(p) == expected


def test_p_eq_ci_and_percentages():
    assert fmt.p_eq(0.013) == "p = 0.013" and fmt.p_eq(1e-9) == "p < 0.0001"
    assert fmt.est_ci(-3.4674, -5.9449, -0.9899) == "\u22123.47 [\u22125.94, \u22120.99]"
    assert fmt.pct(31.19) == "31%" and fmt.pct(30.8456, 1) == "30.8%"
    assert fmt.small(0.0) == "0" and fmt.small(0.004) == "0.0040" and fmt.small(1.521) == "1.52"


@pytest.mark.parametrize("x, expected", [(78.2, "78.2"), (6.123724, "6.124"), (1234.5, "1234.5"),
                                         (0.0512, "0.0512"), (-2.5, "\u22122.5"), ("NA", "NA"), (None, "—")])
def test_sig_keeps_entered_values_and_rounds_computed_ones(x, expected):
    assert fmt.sig(x) == expected


def test_value_and_humanise():
    assert fmt.value(20.0) == "20" and fmt.value(["a", 2]) == "a; 2" and fmt.value("") == "—"
    assert fmt.humanise("exosome_source") == "Exosome source"
