"""The ``livingmeta`` command line. Each subcommand lives in ``livingmeta/commands/<name>.py`` with
``add_arguments(parser)`` and ``run(args) -> int``."""

from __future__ import annotations

import argparse
import importlib
import keyword
import sys

COMMANDS = {
    "init": "scaffold a new review folder that runs as is",
    "run": "run the workflow on a review and publish the report (wraps `snakemake`)",
    "pool": "pool one table of effect sizes (or per-arm data) and print JSON",
    "dedup": "deduplicate search exports and write record_id,cluster_id",
    "fetch": "fetch new records for the review's saved searches (PubMed)",
    "update": "the unattended update cron calls: lock, recover, fetch, run, publish, one-line summary",
    "status": "what the review looks like now: versions, searches, screening queue, new studies, runs",
    "import": "bring in work from other tools: `livingmeta import screening --from rayyan|asreview|covidence`",
}


def _available():
    for name, help_text in COMMANDS.items():
        # a command named like a Python keyword lives in <name>_.py
        module_name = f"livingmeta.commands.{name}_" if keyword.iskeyword(name) else f"livingmeta.commands.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue
            raise
        yield name, help_text, module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="livingmeta", description="A living systematic review and meta-analysis.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, help_text, module in _available():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
        modules[name] = module
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(modules[args.command], "ACCEPTS_EXTRA_ARGS", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra:
        args.extra = extra
    try:
        return int(modules[args.command].run(args) or 0)
    except KeyboardInterrupt:
        print(f"livingmeta {args.command}: stopped (Ctrl-C); nothing was published.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
