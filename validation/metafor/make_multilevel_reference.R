# Regenerates validation/metafor/reference/multilevel.json: reference values for the multilevel
# (nested random-effects) model livingmeta.stats.rma_mv, the shared-group sampling covariance
# livingmeta.stats.vcalc_shared_group and the CR2 cluster-robust tests livingmeta.stats.robust_cr2.
#
#   Rscript validation/metafor/make_multilevel_reference.R      (from the repository root)
#
# Requires R 4 with metafor 3.8-1, metadat, clubSandwich 0.5.8 and jsonlite.  Every block of values is
# stored beside the exact R call that produced it ("call"); "setup" builds `dat` (and `V`).
# The Python test tests/stats/test_multilevel.py reads the JSON; CI needs no R.

suppressPackageStartupMessages({ library(metafor); library(jsonlite); library(clubSandwich) })
stopifnot(as.character(packageVersion("metafor")) == "3.8.1")
outdir <- file.path("validation", "metafor", "reference")
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)
num <- function(x) as.numeric(x)

fit_block <- function(call, cr2 = TRUE, pred = TRUE, fixed = TRUE) {
  res <- eval(parse(text = call))
  if (fixed) {
    # the same model with sigma2 fixed at metafor's estimate: every other quantity is then free of the
    # optimiser's tolerance (nlminb's default stops ~1e-6..1e-5 relative from the optimum on flat surfaces)
    call_fixed <- sub("\\)$", sprintf(", sigma2 = c(%s))", paste(sprintf("%.17g", res$sigma2), collapse = ", ")), call)
    fixed_block <- fit_block(call_fixed, cr2 = cr2, pred = pred, fixed = FALSE)
  }
  W <- solve(res$V); X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  denom <- sum(res$sigma2) + (res$k - res$p) / sum(diag(P))
  out <- list(call = call, method = res$method, test = res$test, k = res$k, p = res$p,
              beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
              ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), ddf = num(res$ddf),
              sigma2 = num(res$sigma2), s_nlevels = num(res$s.nlevels), s_names = res$s.names,
              QE = num(res$QE), QEp = num(res$QEp), QM = num(res$QM), QMp = num(res$QMp),
              QMdf = num(res$QMdf), logLik = num(logLik(res)),
              I2_call = "W <- solve(res$V); X <- model.matrix(res); P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W; 100 * res$sigma2 / (sum(res$sigma2) + (res$k-res$p)/sum(diag(P)))",
              I2 = num(100 * res$sigma2 / denom), I2_total = num(100 * sum(res$sigma2) / denom))
  if (pred && res$p == 1) {
    pr <- predict(res)
    out$pred_call <- "pr <- predict(res)"
    out$pi_lb <- num(pr$pi.lb); out$pi_ub <- num(pr$pi.ub)
  }
  if (cr2) {
    ct <- coef_test(res, vcov = "CR2")
    ci <- conf_int(res, vcov = "CR2")
    rb <- robust(res, cluster = res$mf.r[[1]][[1]], clubSandwich = TRUE)
    out$cr2_call <- "ct <- clubSandwich::coef_test(res, vcov = 'CR2'); ci <- clubSandwich::conf_int(res, vcov = 'CR2'); rb <- robust(res, cluster = <outermost level>, clubSandwich = TRUE)"
    out$cr2 <- list(beta = num(ct$beta), se = num(ct$SE), tstat = num(ct$tstat), df = num(ct$df_Satt),
                    pval = num(ct$p_Satt), ci_lb = num(ci$CI_L), ci_ub = num(ci$CI_U),
                    vcov = num(as.matrix(vcovCR(res, type = "CR2"))),
                    robust_se = num(rb$se), robust_pval = num(rb$pval), robust_ddf = num(rb$ddf),
                    robust_QM = num(rb$QM), robust_QMdf = num(rb$QMdf), robust_QMp = num(rb$QMp))
  }
  if (fixed) out$fixed_sigma2 <- fixed_block
  out
}

datasets <- list()

# ---- dat.konstantopoulos2011: schools within districts ---------------------------------------
dat <- dat.konstantopoulos2011
datasets$konstantopoulos2011 <- list(
  setup = "dat <- dat.konstantopoulos2011",
  data = list(yi = num(dat$yi), vi = num(dat$vi), study = as.character(dat$district),
              comparison = as.character(dat$school), year = num(dat$year)),
  fits = list(
    reml_z = fit_block("rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)"),
    ml_z = fit_block("rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = 'ML')"),
    reml_t_contain = fit_block("rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, test = 't', dfs = 'contain')"),
    reml_t_residual = fit_block("rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, test = 't')"),
    year_z = fit_block("rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat)"),
    year_t_contain = fit_block("rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat, test = 't', dfs = 'contain')")
  ))

# ---- dat.assink2016: effect sizes within studies ---------------------------------------------
dat <- dat.assink2016
V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
datasets$assink2016 <- list(
  setup = "dat <- dat.assink2016; V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)",
  data = list(yi = num(dat$yi), vi = num(dat$vi), study = as.character(dat$study),
              comparison = as.character(dat$esid), deltype = as.character(dat$deltype),
              year = num(dat$year), V = num(V)),
  fits = list(
    reml_z = fit_block("rma.mv(yi, vi, random = ~ 1 | study/esid, data = dat)"),
    reml_t_contain = fit_block("rma.mv(yi, vi, random = ~ 1 | study/esid, data = dat, test = 't', dfs = 'contain')"),
    ml_t_contain = fit_block("rma.mv(yi, vi, random = ~ 1 | study/esid, data = dat, method = 'ML', test = 't', dfs = 'contain')"),
    V_reml_t_contain = fit_block("rma.mv(yi, V, random = ~ 1 | study/esid, data = dat, test = 't', dfs = 'contain')"),
    deltype_z = fit_block("rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat)"),
    deltype_t_contain = fit_block("rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat, test = 't', dfs = 'contain')"),
    year_deltype_V_t_contain = fit_block("rma.mv(yi, V, mods = ~ I(year - 2000) + deltype, random = ~ 1 | study/esid, data = dat, test = 't', dfs = 'contain')")
  ))

# ---- seeded preclinical-style data: experiments within studies, several doses per shared control
set.seed(1616)
rows <- list(); r <- 0
for (s in 1:14) {
  mu_s <- rnorm(1, 0.8, 0.5)
  n_exp <- sample(1:2, 1)
  for (e in 1:n_exp) {
    mu_e <- mu_s + rnorm(1, 0, 0.3)
    nc <- sample(6:12, 1); mc <- rnorm(1, 20, 2); sdc <- runif(1, 2, 5)
    n_arm <- sample(1:3, 1)
    for (a in 1:n_arm) {
      r <- r + 1
      nt <- sample(5:12, 1)
      rows[[r]] <- data.frame(study = paste0("S", s), experiment = paste0("S", s, "E", e),
                              comparison = paste0("S", s, "E", e, "C", a),
                              trt = paste0("S", s, "E", e, "T", a), ctrl = paste0("S", s, "E", e, "CTRL"),
                              m1i = round(mc + (mu_e + rnorm(1, 0, 0.3)) * sdc, 2), sd1i = round(runif(1, 2, 5), 2), n1i = nt,
                              m2i = round(mc, 2), sd2i = round(sdc, 2), n2i = nc, dose = a)
    }
  }
}
dat <- do.call(rbind, rows)
dat <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat)
V <- vcalc(vi, cluster = study, grp1 = trt, grp2 = ctrl, w1 = n1i, w2 = n2i, data = dat)
datasets$shared_controls <- list(
  setup = paste("see make_multilevel_reference.R (set.seed(1616) ...); dat <- escalc('SMD', ...);",
                "V <- vcalc(vi, cluster = study, grp1 = trt, grp2 = ctrl, w1 = n1i, w2 = n2i, data = dat)"),
  vcalc_call = "V <- vcalc(vi, cluster = study, grp1 = trt, grp2 = ctrl, w1 = n1i, w2 = n2i, data = dat)",
  data = list(yi = num(dat$yi), vi = num(dat$vi), study = dat$study, experiment = dat$experiment,
              comparison = dat$comparison, trt = dat$trt, ctrl = dat$ctrl, m1i = dat$m1i, sd1i = dat$sd1i,
              n1i = dat$n1i, m2i = dat$m2i, sd2i = dat$sd2i, n2i = dat$n2i, dose = dat$dose, V = num(V)),
  fits = list(
    three_level_V_t_contain = fit_block("rma.mv(yi, V, random = ~ 1 | study/comparison, data = dat, test = 't', dfs = 'contain')"),
    three_level_V_z = fit_block("rma.mv(yi, V, random = ~ 1 | study/comparison, data = dat)"),
    four_level_V_t_contain = fit_block("rma.mv(yi, V, random = ~ 1 | study/experiment/comparison, data = dat, test = 't', dfs = 'contain')"),
    four_level_V_ml_z = fit_block("rma.mv(yi, V, random = ~ 1 | study/experiment/comparison, data = dat, method = 'ML')"),
    dose_V_t_contain = fit_block("rma.mv(yi, V, mods = ~ dose, random = ~ 1 | study/experiment/comparison, data = dat, test = 't', dfs = 'contain')")
  ))

# ---- benchmark-sized seeded set: 100 studies x 5 comparisons (used by benchmarks/ and a test)
set.seed(2016)
kS <- 100; kC <- 5
dat <- data.frame(study = rep(paste0("S", 1:kS), each = kC), comparison = rep(1:kC, kS))
dat$vi <- runif(kS * kC, 0.02, 0.3)
dat$yi <- 0.4 + rep(rnorm(kS, 0, 0.3), each = kC) + rnorm(kS * kC, 0, 0.2) + rnorm(kS * kC, 0, sqrt(dat$vi))
datasets$seeded_100x5 <- list(
  setup = "set.seed(2016); see make_multilevel_reference.R",
  data = list(yi = num(dat$yi), vi = num(dat$vi), study = dat$study, comparison = as.character(dat$comparison)),
  fits = list(
    reml_t_contain = fit_block("rma.mv(yi, vi, random = ~ 1 | study/comparison, data = dat, test = 't', dfs = 'contain')")
  ))

out <- list(metafor = as.character(packageVersion("metafor")),
            clubSandwich = as.character(packageVersion("clubSandwich")),
            note = "metafor defaults (optimizer nlminb); I2 as the metafor FAQ 'I^2 for multilevel and multivariate models'",
            datasets = datasets)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE, null = "null", na = "null"),
           file.path(outdir, "multilevel.json"))
cat("wrote", file.path(outdir, "multilevel.json"), "\n")
