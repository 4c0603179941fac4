"""Rule prisma: PRISMA 2020 counts of this version (and the previous one), checked to add up; also the
same counts in the PRISMA2020 R package's CSV template."""
from livingmeta.jsonio import read_json, write_json, write_text_atomic
from livingmeta.records import prisma, prisma_csv
from livingmeta.scripting import run_job


def main(smk):
    previous_files = list(smk.input.previous)
    previous = prisma.load_previous(previous_files[0], smk.params.get("previous_display")) if previous_files else None
    result = prisma.compute_prisma(read_json(smk.input.library), read_json(smk.input.screening), previous)
    write_json(smk.output.prisma, result)
    write_text_atomic(smk.output.prisma_csv, prisma_csv.export_csv_text(result))


run_job(snakemake, main)  # noqa: F821 (injected by Snakemake)
