"""Certainty of evidence (GRADE): :mod:`~livingmeta.certainty.grade` proposes a rating per analysis from
its data by a stated rule set; :mod:`~livingmeta.certainty.decisions` reads the reviewers' decisions
(review/certainty.yaml) and combines both into results.json's ``certainty`` block."""
