"""Extraction: the review protocol, outcome definitions, study files and their per-study effect sizes.

* :mod:`livingmeta.extraction.outcomes`  -- ``outcomes.yaml`` (outcome ids, directions, timepoints)
* :mod:`livingmeta.extraction.studyfile` -- load and validate one ``studies/<study>.yaml``
* :mod:`livingmeta.extraction.effects`   -- per-study effect sizes (the documents of ``results/studies/studies.json``)
* :mod:`livingmeta.extraction.review`    -- ``review.yaml`` (the protocol)

The formats are documented in ``docs/study-file.md``.
"""
