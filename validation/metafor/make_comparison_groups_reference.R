# Reference values for subgroups of comparisons (tests/test_comparison_groups.py): the multi-arm test review
# (tests/fixtures/multiarm_review/) with a subgroup variable `dose` that liao2022 gives per comparison
# (10 ug: low, 50 ug: high; entry-level `groups:` in its study file) and the other studies per study.
# The multilevel model with the subgroup as a moderator of the rows, shared controls' covariance by vcalc.
# metafor 3.8-1.  Run from the repository root:
#   Rscript validation/metafor/make_comparison_groups_reference.R
# writes validation/metafor/comparison_groups.json.
suppressPackageStartupMessages({library(metafor); library(yaml); library(jsonlite)})

comparison_dose <- c("10 µg" = "low", "50 µg" = "high")            # liao2022's comparisons
study_dose <- c(chen2020 = "low", wang2019 = "high", zhao2018 = "low", xu2021 = "high")

source("validation/metafor/multiarm_rows.R")
d <- multiarm_rows()
d <- d[d$outcome == "score", ]
d$dose <- ifelse(d$study == "liao2022", comparison_dose[d$comparison], study_dose[d$study])
d <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
d$id <- seq_len(nrow(d))
d$grp2 <- ifelse(is.na(d$control_group), paste("own", d$id), d$control_group)
d$exp <- ifelse(is.na(d$experiment), "", d$experiment)
d$comp <- ifelse(is.na(d$comparison), as.character(d$id - 1), d$comparison)
V <- vcalc(vi, cluster = study, grp1 = id, grp2 = grp2, w1 = n1i, w2 = n2i, data = d)
levels_fit <- rma.mv(yi, V, mods = ~ factor(dose) - 1, random = ~ 1 | study / exp / comp, data = d,
                     method = "REML", test = "t", dfs = "contain")
test_fit <- rma.mv(yi, V, mods = ~ factor(dose), random = ~ 1 | study / exp / comp, data = d,
                   method = "REML", test = "t", dfs = "contain")
out <- list(
  rows = paste(d$study, d$comp, d$dose),
  levels = lapply(seq_along(levels_fit$b), function(j) list(
    level = sub("factor\\(dose\\)", "", rownames(levels_fit$b)[j]), estimate = levels_fit$b[j],
    se = levels_fit$se[j], ci_lb = levels_fit$ci.lb[j], ci_ub = levels_fit$ci.ub[j])),
  QM = test_fit$QM, QM_df = c(test_fit$QMdf[1], test_fit$QMdf[2]), QM_pval = test_fit$QMp,
  call = paste("rma.mv(yi, vcalc(vi, cluster = study, grp1 = id, grp2 = control_group, w1 = n1i, w2 = n2i),",
               "mods = ~ factor(dose) - 1 (levels) | ~ factor(dose) (QM), random = ~ 1 | study/experiment/comparison,",
               "method = 'REML', test = 't', dfs = 'contain'); dose per comparison for liao2022"),
  metafor = as.character(packageVersion("metafor")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "validation/metafor/comparison_groups.json")
