"""Synthesis without meta-analysis (SWiM, Campbell et al. 2020, BMJ 368:l6890) of outcome domains that study
files report as a direction of effect only.

``settings``  the ``synthesis`` block of review.yaml (grouping, characteristics to tabulate), validated
``vote``      vote counting based on the direction of effect: sign test and the Clopper-Pearson interval
``build``     the ``synthesis`` document (results/synthesis/synthesis.json; results.json's ``synthesis``)
"""
