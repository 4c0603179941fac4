"""``livingmeta import revman FILE DIR``: a RevMan review as a livingmeta review folder (docs/interchange.md).

:func:`read_revman` picks the reader by the file's content: a zip is a RevMan Web data package
(:mod:`livingmeta.interchange.revman_web`), XML a RevMan 5 file (:mod:`livingmeta.interchange.revman_rm5`);
anything else is refused with one message naming the file. :func:`import_revman` writes the folder
(:mod:`livingmeta.interchange.review_writer`) atomically: nothing is left behind unless it succeeds.
"""

from __future__ import annotations

import os
from pathlib import Path

from livingmeta.errors import ReviewInputError
from livingmeta.interchange.revman_model import RevmanReview, unsupported


def read_revman(path: str | os.PathLike) -> RevmanReview:
    file = str(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise ReviewInputError(f"cannot read the file ({err.strerror})", file=file) from None
    if data[:4] == b"PK\x03\x04":
        from livingmeta.interchange.revman_web import read_web
        return read_web(file)
    if data.lstrip()[:1] == b"<":
        from livingmeta.interchange.revman_rm5 import read_rm5
        return read_rm5(file, data)
    raise unsupported(file, "not a RevMan file (neither a RevMan 5 .rm5 XML file nor a RevMan Web data package zip)")


def import_revman(path: str | os.PathLike, directory: str | os.PathLike) -> dict:
    from livingmeta.interchange.review_writer import write_review_folder

    review = read_revman(path)
    summary = write_review_folder(review, directory)
    summary["format"] = review.format
    return summary
