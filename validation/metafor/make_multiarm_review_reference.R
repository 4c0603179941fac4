# Reference values for the multi-arm test review (tests/fixtures/multiarm_review/, tests/test_multiarm_review.py):
# several comparisons per study pooled by a multilevel model (shared controls' covariance by vcalc), by
# combining arms (Cochrane Handbook 6.5.2.10) and by splitting shared controls (Handbook 23.3.4).
# metafor 3.8-1, clubSandwich (CR2 robust tests).  Run from the repository root:
#   Rscript validation/metafor/make_multiarm_review_reference.R
# writes validation/metafor/multiarm_review.json.
suppressPackageStartupMessages({library(metafor); library(yaml); library(jsonlite); library(clubSandwich)})

source("validation/metafor/multiarm_rows.R")
dat <- multiarm_rows()

multilevel <- function(d, measure) {
  if (measure == "OR") {
    d <- escalc("OR", ai = ai, n1i = t1, ci = ci, n2i = t2, data = d); d$n1 <- d$t1; d$n2 <- d$t2
  } else {
    d <- escalc(measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
    d$n1 <- d$n1i; d$n2 <- d$n2i
  }
  d$id <- seq_len(nrow(d))
  d$grp2 <- ifelse(is.na(d$control_group), paste("own", d$id), d$control_group)
  d$exp <- ifelse(is.na(d$experiment), "", d$experiment)
  d$comp <- ifelse(is.na(d$comparison), as.character(d$id - 1), d$comparison)
  V <- vcalc(vi, cluster = study, grp1 = id, grp2 = grp2, w1 = n1, w2 = n2, data = d)
  fit <- rma.mv(yi, V, random = ~ 1 | study / exp / comp, data = d, method = "REML", test = "t", dfs = "contain")
  pred <- predict(fit)
  sub <- rma.mv(yi, V, mods = ~ factor(route), random = ~ 1 | study / exp / comp, data = d, method = "REML",
                test = "t", dfs = "contain")
  # CR2 cluster-robust test at the study level, Satterthwaite df (livingmeta's analysis.robust / outcome robust)
  rob <- robust(fit, cluster = study, clubSandwich = TRUE)
  ct <- clubSandwich::coef_test(fit, vcov = "CR2", cluster = d$study, test = "Satterthwaite")
  cci <- clubSandwich::conf_int(fit, vcov = "CR2", cluster = d$study, level = 0.95)
  robust_out <- list(se = rob$se, tval = rob$zval, df = as.numeric(rob$ddf), pval = rob$pval, ci_lb = rob$ci.lb,
                     ci_ub = rob$ci.ub, n_clusters = rob$n, se_clubSandwich = ct$SE, df_clubSandwich = ct$df_Satt,
                     pval_clubSandwich = ct$p_Satt, ci_lb_clubSandwich = cci$CI_L, ci_ub_clubSandwich = cci$CI_U,
                     sigma2 = fit$sigma2,
                     call = "robust(fit, cluster = study, clubSandwich = TRUE); clubSandwich::coef_test(fit, vcov = 'CR2', cluster = study, test = 'Satterthwaite'); clubSandwich::conf_int(fit, vcov = 'CR2', cluster = study)")
  list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, ci_lb = fit$ci.lb, ci_ub = fit$ci.ub, robust = robust_out,
       pval = fit$pval, ddf = as.numeric(fit$ddf), sigma2 = fit$sigma2, QE = fit$QE, QE_pval = fit$QEp,
       pi_lb = pred$pi.lb, pi_ub = pred$pi.ub, weights = as.numeric(weights(fit)),
       comparisons = paste(d$study, d$comp),
       subgroups = list(variable = "route", QM = sub$QM, QM_df = c(sub$QMdf[1], sub$QMdf[2]), QM_pval = sub$QMp),
       call = "rma.mv(yi, vcalc(vi, cluster = study, grp1 = id, grp2 = control_group, w1 = n1i, w2 = n2i), random = ~ 1 | study/experiment/comparison, method = 'REML', test = 't', dfs = 'contain')")
}

combine2 <- function(n1, m1, s1, n2, m2, s2) {   # Cochrane Handbook 6.5.2.10, Table 6.5.a
  n <- n1 + n2; m <- (n1 * m1 + n2 * m2) / n
  s <- sqrt(((n1 - 1) * s1^2 + (n2 - 1) * s2^2 + n1 * n2 / n * (m1 - m2)^2) / (n - 1))
  c(n, m, s)
}
combine_study <- function(g) {
  tr <- c(g$n1i[1], g$m1i[1], g$sd1i[1])
  if (nrow(g) > 1) for (j in 2:nrow(g)) tr <- combine2(tr[1], tr[2], tr[3], g$n1i[j], g$m1i[j], g$sd1i[j])
  key <- ifelse(is.na(g$control_group), paste("own", seq_len(nrow(g))), g$control_group)
  cg <- g[!duplicated(key), ]
  co <- c(cg$n2i[1], cg$m2i[1], cg$sd2i[1])
  if (nrow(cg) > 1) for (j in 2:nrow(cg)) co <- combine2(co[1], co[2], co[3], cg$n2i[j], cg$m2i[j], cg$sd2i[j])
  data.frame(study = g$study[1], n1i = tr[1], m1i = tr[2], sd1i = tr[3], n2i = co[1], m2i = co[2], sd2i = co[3],
             ai = sum(g$ai), t1 = sum(g$t1), ci = sum(cg$ci), t2 = sum(cg$t2))
}
univariate <- function(fit) list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, ci_lb = fit$ci.lb,
                                 ci_ub = fit$ci.ub, pval = fit$pval, tau2 = fit$tau2, I2 = fit$I2, Q = fit$QE)

out <- list()
out$score <- multilevel(dat[dat$outcome == "score", ], "SMD")
out$healed <- multilevel(dat[dat$outcome == "healed", ], "OR")

d <- dat[dat$outcome == "score_combine", ]
cd <- do.call(rbind, lapply(split(d, d$study), combine_study))
fit <- rma(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = cd,
           method = "REML", test = "knha")
out$score_combine <- c(univariate(fit), call = "rma(measure = 'MD', <arms combined per study>, method = 'REML', test = 'knha')")

d <- dat[dat$outcome == "score_split", ]
for (key in unique(paste(d$study, d$control_group)[!is.na(d$control_group)])) {
  idx <- which(paste(d$study, d$control_group) == key)
  n <- d$n2i[idx[1]]; k <- length(idx)
  d$n2i[idx] <- floor(n / k) + ifelse(seq_len(k) <= n %% k, 1, 0)   # remainder to the first comparisons
}
fit <- rma(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d,
           method = "REML", test = "knha")
out$score_split <- c(univariate(fit), call = "rma(measure = 'MD', <shared control n split>, method = 'REML', test = 'knha')")

d <- dat[dat$outcome == "healed_mh", ]
cd <- do.call(rbind, lapply(split(d, d$study), combine_study))
fit <- rma.mh(ai = ai, n1i = t1, ci = ci, n2i = t2, data = cd, measure = "OR")
out$healed_mh <- list(k = fit$k, estimate = as.numeric(fit$b), se = fit$se, ci_lb = fit$ci.lb, ci_ub = fit$ci.ub,
                      pval = fit$pval, call = "rma.mh(<events and totals summed per study>, measure = 'OR')")

out$metafor <- as.character(packageVersion("metafor"))
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "validation/metafor/multiarm_review.json")
