"""``livingmeta import KIND ...``: bring work done in other tools into the review.

``livingmeta import screening --from rayyan|asreview|covidence FILE --out OUT.csv`` (screening decisions as
a livingmeta decision file: :mod:`livingmeta.commands.import_screening`); ``livingmeta import revman FILE DIR``
(a RevMan review as a new review folder: :mod:`livingmeta.commands.import_revman`). Each kind is a module of its
own with ``add_arguments(parser)`` and ``run(args)``.
"""

from __future__ import annotations

import importlib

KINDS = {
    "screening": ("import_screening", "screening decisions from Rayyan, ASReview or Covidence as a decision file"),
    "revman": ("import_revman", "a RevMan 5 review (.rm5) or RevMan Web data package as a new review folder"),
}


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, (module, help_text) in KINDS.items():
        importlib.import_module(f"livingmeta.commands.{module}").add_arguments(
            sub.add_parser(kind, help=help_text, description=help_text))


def run(args) -> int:
    module, _ = KINDS[args.kind]
    return importlib.import_module(f"livingmeta.commands.{module}").run(args)
