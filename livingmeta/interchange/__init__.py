"""Interchange with other systematic review tools (issue 20): reading their exports into a review folder.

:mod:`livingmeta.interchange.screening_import` turns Rayyan, ASReview and Covidence screening exports into
livingmeta screening decision files (docs/screening.md, "Importing decisions from Rayyan, ASReview,
Covidence").
"""
