"""``livingmeta init DIR``: scaffold a new review folder that runs as is."""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "review"
FOLDERS = ("searches", "screening", "studies", "risk_of_bias")


def add_arguments(parser) -> None:
    parser.add_argument("directory", help="the new review folder (created; must be empty if it exists)")


def scaffold(directory: str | Path) -> list[Path]:
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not empty: choose a new folder")
    for folder in FOLDERS:
        (target / folder).mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(TEMPLATE.rglob("*")):
        if src.is_file():
            dest = target / src.relative_to(TEMPLATE)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            written.append(dest)
    return written


def run(args) -> int:
    try:
        written = scaffold(args.directory)
    except FileExistsError as err:
        print(f"livingmeta: error: {err}")
        return 1
    print(f"livingmeta: created the review folder {args.directory} ({len(written)} files):")
    for path in written:
        print(f"  {path}")
    print(f"Next: edit review.yaml and outcomes.yaml, add exports under searches/<source>/, then run\n"
          f"  livingmeta run --configfile {Path(args.directory) / 'config.yaml'}")
    return 0
