"""``livingmeta import revman``: the RevMan 5 file and RevMan Web package of ../shared/data/revman/ (R package
meta 8.4-0, inst/extdata; Fleiss 1993, Stat Methods Med Res 2:121) imported and pooled with livingmeta's own
engine must give RevMan's stored results; hand-made Web packages cover the CSV variants and bad input."""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from livingmeta import analyses, config as cfgmod
from livingmeta.errors import ReviewInputError
from livingmeta.extraction.effects import study_document
from livingmeta.extraction.outcomes import load_outcomes
from livingmeta.extraction.studyfile import load_studies
from livingmeta.interchange.revman import import_revman, read_revman
from livingmeta.plan import scan_review
from livingmeta.rob.tool import load_tool

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "revman"
RM5 = SHARED / "Fleiss1993.rm5"
WEB = SHARED / "Fleiss1993-revman-web.zip"
needs_shared = pytest.mark.skipif(not RM5.exists() or not WEB.exists(),
                                  reason=f"the shared RevMan fixtures are missing ({SHARED})")

# RevMan 5's stored totals of analysis 1.1 (DICH_OUTCOME attributes in Fleiss1993.rm5, full precision)
STORED_RM5 = {"EFFECT_SIZE": 0.8968655609130709, "CI_START": 0.8405144008917793, "CI_END": 0.9569947088336491,
              "CHI2": 9.946055983220074, "DF": 6, "P_CHI2": 0.1269422521561745, "I2": 39.67458045558399,
              "Z": 3.287633061337987, "P_Z": 0.0010103343130005407}


def pooled(folder: Path) -> dict[str, dict]:
    """Every analysis of an imported folder pooled as the workflow pools it (rule analysis)."""
    cfg = cfgmod.load(folder / "config.yaml")
    a = cfg["analysis"]
    outcomes = load_outcomes(folder / "outcomes.yaml")
    studies = load_studies(folder / "studies", outcomes, a["measure"])
    docs = [study_document(s, outcomes, a["measure"], a["smd_variance"], a.get("zero_cells")) for s in studies.values()]
    out = {}
    for aid, an in scan_review(folder).analyses.items():
        rows = analyses.collect_effects(docs, aid)
        out[an.outcome] = analyses.pool_analysis(rows, {"analysis": aid, "outcome": an.outcome}, an.model(a))
    return out


def revman_view(p: dict) -> dict:
    """livingmeta's pooled result in RevMan's terms (ratio scale, |Z|)."""
    exp = p.get("estimate_exp") is not None
    return {"EFFECT_SIZE": p["estimate_exp"] if exp else p["estimate"],
            "CI_START": p["ci_lb_exp"] if exp else p["ci_lb"], "CI_END": p["ci_ub_exp"] if exp else p["ci_ub"],
            "CHI2": p["Q"], "DF": p["Q_df"], "P_CHI2": p["Q_pval"], "I2": p["I2"], "Z": abs(p["zval"]),
            "P_Z": p["pval"]}


@needs_shared
def test_an_imported_review_is_worded_as_a_clinical_review_with_revmans_arm_names(tmp_path):
    """RevMan reviews are Cochrane reviews of interventions in people: the report says participants, not
    animals, and each analysis's forest plot favours the groups RevMan names (GROUP_LABEL_1 / _2)."""
    import yaml

    from livingmeta.extraction.review import parse_review

    import_revman(RM5, tmp_path / "fleiss")
    review = parse_review(yaml.safe_load((tmp_path / "fleiss" / "review.yaml").read_text()))
    assert (review["type"], review["unit_of_analysis"]) == ("clinical", "participants")
    arms = {o["id"]: o.get("arms") for o in yaml.safe_load((tmp_path / "fleiss" / "outcomes.yaml").read_text())["outcomes"]}
    assert arms == {"c1_o1_aspirin_for_preventing_death_a": {"treatment": "Aspirin", "control": "Control"},
                    "c1_o2_mental_health_treatment_versus": {"treatment": "Mental Health Treatment", "control": "Control"}}
    outcomes = load_outcomes(tmp_path / "fleiss" / "outcomes.yaml")
    assert outcomes["c1_o1_aspirin_for_preventing_death_a"].arms == {"treatment": "Aspirin", "control": "Control"}


@needs_shared
def test_rm5_import_reproduces_revmans_stored_mantel_haenszel_results(tmp_path):
    summary = import_revman(RM5, tmp_path / "fleiss")
    assert summary["studies"] == 12 and summary["outcomes"] == 2
    review = read_revman(RM5)
    stored = review.outcomes[0].stored
    assert {k: stored[k] for k in STORED_RM5} == STORED_RM5     # the reader keeps RevMan's numbers
    res = pooled(tmp_path / "fleiss")
    mh = res["c1_o1_aspirin_for_preventing_death_a"]
    assert mh["method"] == "MH" and mh["measure"] == "OR" and len(mh["studies"]) == 7
    got = revman_view(mh)
    for key, want in STORED_RM5.items():
        # RevMan's chi-square p value comes from its own approximation (agrees to 6e-7 relative);
        # everything else to RevMan's stored double precision
        rel = 1e-6 if key == "P_CHI2" else 1e-10
        assert got[key] == pytest.approx(want, rel=rel), key
    # each study's OR, 95% CI and MH weight (%) as RevMan stored them on its DICH_DATA element
    import xml.etree.ElementTree as ET

    root = ET.parse(RM5).getroot()
    by_name = {st.get("ID"): st.get("NAME") for st in root.iter("STUDY")}
    stored_rows = {by_name[d.get("STUDY_ID")]: d for d in root.iter("DICH_DATA")}
    for s in mh["studies"]:
        d = stored_rows[s["label"].rsplit(" ", 1)[0]]
        for mine, theirs in ((math.exp(s["yi"]), "EFFECT_SIZE"), (math.exp(s["ci_lb"]), "CI_START"),
                             (math.exp(s["ci_ub"]), "CI_END"), (s["weight"], "WEIGHT")):
            assert mine == pytest.approx(float(d.get(theirs)), rel=1e-12), (s["study"], theirs)


@needs_shared
def test_rm5_continuous_smd_outcome_uses_revman5_formulas(tmp_path):
    import_revman(RM5, tmp_path / "f")
    cfg = (tmp_path / "f" / "config.yaml").read_text()
    assert "smd_variance: REVMAN5" in cfg and "method: MH" in cfg and "test: z" in cfg
    smd = pooled(tmp_path / "f")["c1_o2_mental_health_treatment_versus"]
    assert smd["measure"] == "SMD" and smd["method"] == "FE" and len(smd["studies"]) == 5
    # Hedges' g of Davis 1973 by RevMan 5's formula (Deeks & Higgins 2010): g = d (1 - 3/(4N - 9)),
    # d = (5.0 - 6.5) / pooled SD of (4.7, 3.8), n = 13 + 13
    sp = math.sqrt((12 * 4.7 ** 2 + 12 * 3.8 ** 2) / 24)
    davis = next(s for s in smd["studies"] if s["study"] == "davis_1973")
    assert davis["yi"] == pytest.approx(-1.5 / sp * (1 - 3 / (4 * 26 - 9)), rel=1e-12)


@needs_shared
def test_web_package_gives_the_same_review_and_revmans_rounded_results(tmp_path):
    import_revman(WEB, tmp_path / "web")
    import_revman(RM5, tmp_path / "rm5")
    for sub in ("studies/isis-2_1988.yaml", "outcomes.yaml"):
        web = (tmp_path / "web" / sub).read_text().split("\n", 1)[1].replace("RevMan Web data package", "X")
        rm5 = (tmp_path / "rm5" / sub).read_text().split("\n", 1)[1].replace("RevMan 5 (.rm5)", "X")
        # the Web package leaves the group labels (Aspirin, Control) empty: not in labels, descriptions nor arms
        rm5 = "\n".join(x for x in rm5.splitlines() if x.strip() not in ("label: Aspirin", "label: Control"))
        rm5 = rm5.replace("; Aspirin versus Control", "").replace("; Mental Health Treatment versus Control'", "'")
        rm5 = re.sub(r"\n  arms:\n    treatment: [^\n]*\n    control: [^\n]*", "", rm5)
        assert web.replace("Fleiss1993-revman-web.zip", "F").rstrip() == rm5.replace("Fleiss1993.rm5", "F"), sub
    stored = read_revman(WEB).outcomes[0].stored          # the Web package rounds to 6 significant digits
    got = revman_view(pooled(tmp_path / "web")["c1_o1_aspirin_for_preventing_death_a"])
    for key, want in stored.items():
        if key != "TAU2":
            assert got[key] == pytest.approx(want, rel=5e-6, abs=5e-6), key
    assert not read_revman(WEB).outcomes[1].stored        # RevMan stored nothing for the SMD analysis
    # its risk-of-bias judgements are all "Not applicable": every study still gets a file (the workflow needs
    # one), unclear and saying it was not judged
    rob = (tmp_path / "web" / "risk_of_bias" / "amis_1980.yaml").read_text()
    assert "d1:\n    judgement: unclear\n    support: 'no judgement in the RevMan file: to assess'" in rob


@needs_shared
def test_rob1_judgements_become_a_review_tool_and_files(tmp_path):
    import_revman(RM5, tmp_path / "f")
    tool = load_tool(str(tmp_path / "f" / "rob1_revman.yaml"))
    assert [d.label for d in tool.domains][:2] == ["Adequate sequence generation?", "Allocation concealment?"]
    text = (tmp_path / "f" / "risk_of_bias" / "amis_1980.yaml").read_text()
    assert "d2:\n    judgement: unclear\n    support: no support text" in text


# ---- hand-made RevMan Web packages ---------------------------------------------------------------------------

SETTINGS_HEAD = ("Analysis group,Analysis number,Analysis name,Analysis group name,Data type,Statistical method,"
                 "Effect measure,Analysis model,Estimate CI,Experimental group label,Control group label,Mean,"
                 "CI start,CI end")
ROWS_HEAD = ("Analysis group,Analysis number,Analysis name,Subgroup,Study,Study year,GIV Mean,GIV SE,"
             "Experimental mean,Experimental SD,Experimental cases,Experimental N,Control mean,Control SD,"
             "Control cases,Control N")


def web_zip(path: Path, settings: list[str], rows: list[str], *, rob: str | None = None, nested: bool = True,
            settings_head: str = SETTINGS_HEAD) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("1-analysis-data/1-overall-estimates-and-settings.csv",
                   "\ufeff" + "\n".join([settings_head, *settings]) + "\n")
        z.writestr("1-analysis-data/1-data-rows.csv", "\ufeff" + "\n".join([ROWS_HEAD, *rows]) + "\n")
        z.writestr("1-study-data/1-study-information.csv", "\ufeffStudy,Year,Char: Methods\nSmith 2001,2001,RCT\n"
                                                           "Jones 2003,2003,\n")
        if rob:
            z.writestr("1-study-data/1-risk-of-bias.csv", "\ufeff" + rob)
    if nested:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("R/1-files/1-data.zip", inner.getvalue())
            z.writestr("R/1-article.pdf", b"%PDF-")
    else:
        path.write_bytes(inner.getvalue())
    return path


def test_web_generic_inverse_variance_hazard_ratios_random_effects(tmp_path):
    # log HR and SE as RevMan Web keeps them; pooled by DL with a z test as RevMan does
    f = web_zip(tmp_path / "giv.zip",
                ["1,1,Survival,Drug vs placebo,Generic inverse variance,IV,Hazard Ratio,Random effects,95%,Drug,"
                 "Placebo,,,"],
                ["1,1,Survival,,Smith 2001,2001,-0.2231435513,0.1,,,,120,,,,118",
                 "1,1,Survival,,Jones 2003,2003,0.0953101798,0.2,,,,60,,,,61"], nested=False)
    import_revman(f, tmp_path / "r")
    study = (tmp_path / "r" / "studies" / "smith_2001.yaml").read_text()
    assert "estimate: 0.8" in study and "scale: ratio" in study and "se: 0.1" in study
    assert "methods: RCT" in study
    p = pooled(tmp_path / "r")["c1_o1_survival"]
    assert p["method"] == "DL" and p["measure"] == "HR"
    # DerSimonian-Laird by hand: Q = 1.9808 < df = 1 ... tau2 = max(0, (Q - 1) / (sum w - sum w2 / sum w))
    y, v = [math.log(0.8), math.log(1.1)], [0.01, 0.04]
    w = [1 / x for x in v]
    fe = sum(wi * yi for wi, yi in zip(w, y)) / sum(w)
    q = sum(wi * (yi - fe) ** 2 for wi, yi in zip(w, y))
    tau2 = max(0.0, (q - 1) / (sum(w) - sum(x * x for x in w) / sum(w)))
    wr = [1 / (x + tau2) for x in v]
    assert p["estimate"] == pytest.approx(sum(a * b for a, b in zip(wr, y)) / sum(wr), rel=1e-8)
    assert p["tau2"] == pytest.approx(tau2, rel=1e-8)


def test_web_continuous_md_with_subgroups_and_rob(tmp_path):
    f = web_zip(tmp_path / "md.zip",
                ["1,1,Pain (VAS),Exercise vs rest,Continuous,IV,Mean Difference,Fixed effect,95%,Exercise,Rest,,,"],
                ["1,1,Pain (VAS),Adults,Smith 2001,2001,0,0,3.1,1.2,0,40,4.0,1.5,0,42",
                 "1,1,Pain (VAS),Children,Jones 2003,2003,0,0,2.5,1.0,0,20,2.9,1.1,0,21"],
                rob="Study,Domain (judgement): Random sequence generation,Domain (support): Random sequence generation\n"
                    "Smith 2001,Low risk,computer list\nJones 2003,High risk,alternation\n")
    import_revman(f, tmp_path / "r")
    p = pooled(tmp_path / "r")["c1_o1_pain_vas"]
    w = [1 / (1.2 ** 2 / 40 + 1.5 ** 2 / 42), 1 / (1.0 ** 2 / 20 + 1.1 ** 2 / 21)]
    assert p["method"] == "FE" and p["estimate"] == pytest.approx((w[0] * -0.9 + w[1] * -0.4) / sum(w), rel=1e-12)
    assert "subgroup_c1_o1_pain_vas: Adults" in (tmp_path / "r" / "studies" / "smith_2001.yaml").read_text()
    rob = (tmp_path / "r" / "risk_of_bias" / "jones_2003.yaml").read_text()
    assert "judgement: high" in rob and "support: alternation" in rob
    load_tool(str(tmp_path / "r" / "rob1_revman.yaml"))


def test_web_a_study_in_two_subgroups_becomes_two_comparisons_each_in_its_subgroup(tmp_path):
    """A multi-arm trial whose arms RevMan lists in two subgroups of one analysis (low and high dose): the
    import used to refuse the whole review; its rows become comparisons of the one study, each carrying
    its subgroup, pooled as dependent comparisons, and each subgroup is pooled on its own rows."""
    f = web_zip(tmp_path / "arms.zip",
                ["1,1,Pain (VAS),Drug vs placebo,Continuous,IV,Mean Difference,Random effects,95%,Drug,Placebo,,,"],
                ["1,1,Pain (VAS),Low dose,Smith 2001,2001,0,0,3.1,1.2,0,40,4.0,1.5,0,42",
                 "1,1,Pain (VAS),High dose,Smith 2001,2001,0,0,2.6,1.1,0,38,4.0,1.5,0,42",
                 "1,1,Pain (VAS),Low dose,Jones 2003,2003,0,0,2.5,1.0,0,20,2.9,1.1,0,21"], nested=False)
    summary = import_revman(f, tmp_path / "r")
    assert summary["studies"] == 2 and "Smith 2001 in several subgroups" in summary["notes"][0]
    assert "Imported differently from RevMan" in (tmp_path / "r" / "README.md").read_text()
    smith = yaml.safe_load((tmp_path / "r" / "studies" / "smith_2001.yaml").read_text())
    assert [(e["comparison"], e["groups"]) for e in smith["outcomes"]] == [
        ("Low dose", {"subgroup_c1_o1_pain_vas": "Low dose"}), ("High dose", {"subgroup_c1_o1_pain_vas": "High dose"})]
    assert "subgroup_c1_o1_pain_vas" not in (smith.get("groups") or {})
    cfg = cfgmod.load(tmp_path / "r" / "config.yaml")
    a = cfg["analysis"]
    outcomes = load_outcomes(tmp_path / "r" / "outcomes.yaml")
    docs = [study_document(st, outcomes, a["measure"], a["smd_variance"], a.get("zero_cells"))
            for st in load_studies(tmp_path / "r" / "studies", outcomes, a["measure"]).values()]
    (aid, an), = scan_review(tmp_path / "r").analyses.items()
    out = analyses.analysis_documents(docs, [], {"analysis": aid, "outcome": an.outcome}, an.model(a),
                                      subgroups=a["subgroups"], subgroup_tau2="separate", leave_one_out=False)
    assert out["pooled"]["k"] == 3 and out["pooled"]["dependent"] == "multilevel"
    (sg,) = out["subgroups"]["subgroups"]
    levels = {level["level"]: level for level in sg["levels"]}
    assert levels["Low dose"]["k"] == 2 and levels["High dose"]["k"] == 1
    assert ["smith_2001", "High dose"] in levels["High dose"]["comparisons"]


@pytest.mark.parametrize("case, settings, rows, message", [
    ("oe", ["1,1,Death,C,O-E,Peto,Peto Odds Ratio,Fixed effect,95%,A,B,,,"], [],
     "data type 'O-E' is not supported"),
    ("measure", ["1,1,Death,C,Dichotomous,MH,Rate Ratio,Fixed effect,95%,A,B,,,"], [],
     "effect measure 'Rate Ratio' is not supported"),
    ("counts", ["1,1,Death,C,Dichotomous,MH,Odds Ratio,Fixed effect,95%,A,B,,,"],
     ["1,1,Death,,Smith 2001,2001,0,0,0,0,4.5,40,0,0,3,42"], "'4.5' is not a whole number"),
])
def test_web_bad_input_one_message_and_nothing_written(tmp_path, case, settings, rows, message):
    f = web_zip(tmp_path / f"{case}.zip", settings, rows)
    with pytest.raises(ReviewInputError) as err:
        import_revman(f, tmp_path / "out")
    assert message in err.value.format() and str(f) in err.value.format()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f.name]     # no DIR, no temporary folder left


def test_web_package_version_not_understood(tmp_path):
    f = web_zip(tmp_path / "v.zip", ["1,1,Death,C,Dichotomous,MH,Odds Ratio"], [],
                settings_head="Analysis group,Analysis number,Analysis name,Analysis group name,Data type,"
                              "Method,Effect measure")
    with pytest.raises(ReviewInputError, match="version not understood.*'Statistical method'"):
        import_revman(f, tmp_path / "out")


def test_not_revman_files_and_non_empty_target(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(ReviewInputError, match="a.txt: not imported: not a RevMan file"):
        read_revman(tmp_path / "a.txt")
    (tmp_path / "b.xml").write_text("<html><body/></html>")
    with pytest.raises(ReviewInputError, match="root element is <html>"):
        read_revman(tmp_path / "b.xml")
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as z:
        z.writestr("x.csv", "a,b\n")
    with pytest.raises(ReviewInputError, match="not a RevMan Web data package"):
        read_revman(tmp_path / "c.zip")
    (tmp_path / "d.rm5").write_text('<COCHRANE_REVIEW REVMAN_VERSION="5"><ANALYSES_AND_DATA><COMPARISON NO="1">'
                                    '<NAME>C</NAME><OE_OUTCOME NO="1"><NAME>Survival</NAME></OE_OUTCOME>'
                                    '</COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>')
    with pytest.raises(ReviewInputError, match="O - E and variance"):
        read_revman(tmp_path / "d.rm5")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    f = web_zip(tmp_path / "ok.zip", ["1,1,Death,C,Dichotomous,MH,Odds Ratio,Fixed effect,95%,A,B,,,"],
                ["1,1,Death,,Smith 2001,2001,0,0,0,0,4,40,0,0,3,42"])
    with pytest.raises(ReviewInputError, match="exists and is not empty"):
        import_revman(f, busy)
    assert import_revman(f, tmp_path / "empty_ok")["studies"] == 1


# ---- a hand-made RevMan 5 file: references, RoB 1 judgements, subgroups, generic inverse variance -------------

RM5_SMALL = """<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>
<COCHRANE_REVIEW REVMAN_VERSION="5" REVMAN_SUB_VERSION="5.3.5">
<COVER_SHEET><TITLE>Drug for pain</TITLE></COVER_SHEET>
<STUDIES_AND_REFERENCES><STUDIES><INCLUDED_STUDIES>
<STUDY ID="STD-M_x00fc_ller-2001" NAME="M\xfcller 2001" YEAR="2001">
<REFERENCE PRIMARY="YES" TYPE="JOURNAL_ARTICLE"><AU>M\xfcller A</AU><TI>A trial</TI><SO>J Pain</SO><YR>2001</YR>
<IDENTIFIERS><IDENTIFIER TYPE="DOI" VALUE="10.1000/jp.1"/><IDENTIFIER TYPE="PUBMED" VALUE="1234"/></IDENTIFIERS>
</REFERENCE></STUDY>
<STUDY ID="STD-Lee-2005" NAME="Lee 2005" YEAR="2005"/>
<STUDY ID="STD-Kim-2009" NAME="Kim 2009" YEAR=""/>
</INCLUDED_STUDIES></STUDIES></STUDIES_AND_REFERENCES>
<CHARACTERISTICS_OF_STUDIES><CHARACTERISTICS_OF_INCLUDED_STUDIES>
<INCLUDED_CHAR STUDY_ID="STD-Lee-2005"><CHAR_METHODS><P>Parallel RCT</P></CHAR_METHODS></INCLUDED_CHAR>
</CHARACTERISTICS_OF_INCLUDED_STUDIES></CHARACTERISTICS_OF_STUDIES>
<QUALITY_ITEMS>
<QUALITY_ITEM ID="QIT-01" LEVEL="STUDY" NO="1"><NAME>Random sequence generation (selection bias)</NAME>
<QUALITY_ITEM_DATA>
<QUALITY_ITEM_DATA_ENTRY RESULT="YES" STUDY_ID="STD-Lee-2005"><DESCRIPTION><P>Computer list</P></DESCRIPTION></QUALITY_ITEM_DATA_ENTRY>
<QUALITY_ITEM_DATA_ENTRY RESULT="NO" STUDY_ID="STD-Kim-2009"><DESCRIPTION><P>Alternation</P></DESCRIPTION></QUALITY_ITEM_DATA_ENTRY>
</QUALITY_ITEM_DATA></QUALITY_ITEM>
<QUALITY_ITEM ID="QIT-02" LEVEL="GROUP" NO="2"><NAME>Blinding of outcome assessment (detection bias)</NAME>
<QUALITY_ITEM_DATA>
<QUALITY_ITEM_DATA_ENTRY GROUP_ID="QIF-01" RESULT="YES" STUDY_ID="STD-Lee-2005"><DESCRIPTION/></QUALITY_ITEM_DATA_ENTRY>
</QUALITY_ITEM_DATA></QUALITY_ITEM>
</QUALITY_ITEMS>
<ANALYSES_AND_DATA>
<COMPARISON ID="CMP-001" NO="1"><NAME>Drug versus placebo</NAME>
<DICH_OUTCOME EFFECT_MEASURE="RR" METHOD="MH" RANDOM="YES" NO="1" CI_TOTAL="95" LOG_DATA="YES">
<NAME>Adverse events</NAME><GROUP_LABEL_1>Drug</GROUP_LABEL_1><GROUP_LABEL_2>Placebo</GROUP_LABEL_2>
<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1><GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>
<DICH_SUBGROUP NO="1"><NAME>Adults</NAME>
<DICH_DATA EVENTS_1="10" TOTAL_1="50" EVENTS_2="15" TOTAL_2="48" STUDY_ID="STD-M_x00fc_ller-2001"/>
</DICH_SUBGROUP>
<DICH_SUBGROUP NO="2"><NAME>Children</NAME>
<DICH_DATA EVENTS_1="3" TOTAL_1="30" EVENTS_2="8" TOTAL_2="31" STUDY_ID="STD-Lee-2005"/>
</DICH_SUBGROUP>
</DICH_OUTCOME>
<IV_OUTCOME EFFECT_MEASURE="HR" METHOD="IV" RANDOM="NO" NO="2" LOG_DATA="YES">
<NAME>Time to relief</NAME>
<GRAPH_LABEL_1>Favours placebo</GRAPH_LABEL_1><GRAPH_LABEL_2>Favours drug</GRAPH_LABEL_2>
<IV_DATA EFFECT_SIZE="0.4054651081" SE="0.2" STUDY_ID="STD-Lee-2005" TOTAL_1="30" TOTAL_2="31"/>
<IV_DATA EFFECT_SIZE="0.1823215568" SE="0.25" STUDY_ID="STD-Kim-2009"/>
</IV_OUTCOME>
</COMPARISON></ANALYSES_AND_DATA></COCHRANE_REVIEW>
"""


def test_rm5_references_rob_subgroups_and_generic(tmp_path):
    f = tmp_path / "small.rm5"
    f.write_bytes(RM5_SMALL.encode("iso-8859-1"))
    summary = import_revman(f, tmp_path / "r")
    r = tmp_path / "r"
    assert summary["studies"] == 3 and summary["rob"] == 3
    muller = (r / "studies" / "muller_2001.yaml").read_text()
    for text in ("first_author: Müller", "doi: 10.1000/jp.1", "pmid: '1234'", "title: A trial",
                 "subgroup_c1_o1_adverse_events: Adults", "events: 10", "label: Drug"):
        assert text in muller, text
    kim = (r / "studies" / "kim_2009.yaml").read_text()     # year from the name when YEAR is empty
    assert "year: 2009" in kim and "estimate: 1.2" in kim and "scale: ratio" in kim
    assert "methods: Parallel RCT" in (r / "studies" / "lee_2005.yaml").read_text()
    outcomes = (r / "outcomes.yaml").read_text()
    assert "measure: RR\n  method: DL" in outcomes and "measure: HR\n  method: FE" in outcomes
    # direction: RevMan's default labels -> lower is better; 'Favours placebo' on the left -> higher is better
    assert outcomes.count("higher_is_better: false") == 1 and outcomes.count("higher_is_better: true") == 1
    lee = (r / "risk_of_bias" / "lee_2005.yaml").read_text()
    assert "d1:\n    judgement: low\n    support: Computer list" in lee
    assert "judgement: high\n    support: Alternation" in (r / "risk_of_bias" / "kim_2009.yaml").read_text()
    assert any("Lee 2005: 'Blinding of outcome assessment (detection bias)': judgement for outcome group QIF-01" in x
               for x in summary["not_imported"])
    assert '- {variable: subgroup_c1_o1_adverse_events, label: "Subgroups of Adverse events"}' in \
        (r / "config.yaml").read_text()
    p = pooled(r)
    hr = p["c1_o2_time_to_relief"]
    w = [1 / 0.04, 1 / 0.0625]
    assert hr["estimate"] == pytest.approx((w[0] * math.log(1.5) + w[1] * math.log(1.2)) / sum(w), rel=1e-9)
    assert p["c1_o1_adverse_events"]["method"] == "DL" and len(p["c1_o1_adverse_events"]["studies"]) == 2


def test_swapped_events_enter_as_revman_analysed_them(tmp_path):
    f = web_zip(tmp_path / "swap2.zip",
                ["1,1,Survival,C,Dichotomous,MH,Risk Ratio,Fixed effect,95%,A,B,true,,,"],
                ["1,1,Survival,,Smith 2001,2001,0,0,0,0,30,40,0,0,20,42"],
                settings_head=SETTINGS_HEAD.replace("Control group label,", "Control group label,Swap event and non-event,"))
    import_revman(f, tmp_path / "r")
    text = (tmp_path / "r" / "studies" / "smith_2001.yaml").read_text()
    assert "events: 10" in text and "events: 22" in text and "non-events" in text
