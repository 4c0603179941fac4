# Records branch: search exports -> parsed records -> deduplicated library -> screening -> PRISMA counts.
# Nothing here feeds the pooling branch; the two meet only at the report.


localrules:
    prisma,


rule parse_export:
    input:
        lambda wc: PLAN.export(wc.source, wc.name).path,
    output:
        res("records/parsed/{source}/{name}.json"),
    log:
        res("logs/records/parse/{source}/{name}.log"),
    params:
        code=code_of("parse_export.py"),
        source=lambda wc: wc.source,
        review_dir=REVIEW,
    script:
        "../../scripts/parse_export.py"


rule deduplicate:
    input:
        parsed=[res(f"records/parsed/{e.source}/{e.name}.json") for e in PLAN.exports],
        decisions=[p for p in [review_file("screening/duplicates.csv")] if os.path.exists(p)],
    output:
        library=res("records/dedup.json"),
        review=res("records/dedup_review.csv"),
    log:
        res("logs/records/deduplicate.log"),
    params:
        code=code_of("deduplicate.py"),
        settings={"link_errata": CFG["records"]["link_errata"]},
    script:
        "../../scripts/deduplicate.py"


rule screening:
    input:
        library=res("records/dedup.json"),
        decisions=[p for p in PLAN.screening_files if os.path.basename(p) != "duplicates.csv"],
    output:
        screening=res("records/screening.json"),
        queue=res("records/screening_queue.csv"),
    log:
        res("logs/records/screening.log"),
    params:
        code=code_of("screening.py"),
        settings={"screening": CFG["records"]["screening"]},
    script:
        "../../scripts/screening.py"


rule prisma:
    input:
        library=res("records/dedup.json"),
        screening=res("records/screening.json"),
        previous=[p for p in [review_file("previous_version.yaml")] if os.path.exists(p)],
    output:
        prisma=res("records/prisma.json"),
        prisma_csv=res("records/PRISMA2020.csv"),
    log:
        res("logs/records/prisma.log"),
    params:
        code=code_of("prisma.py"),
        previous_display=os.path.relpath(review_file("previous_version.yaml"),
                                         os.path.dirname(os.path.abspath(REVIEW))),
    script:
        "../../scripts/prisma.py"
