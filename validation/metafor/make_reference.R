# Regenerates the pinned metafor reference values in validation/metafor/reference/*.json.
#
#   Rscript validation/metafor/make_reference.R      (from the repository root)
#
# Requires R 4 with metafor 3.8-1, metadat and jsonlite (Debian: r-cran-metafor, r-cran-metadat,
# r-cran-jsonlite).  Every block of values is stored next to the exact R call that produced it
# ("call"), so any number can be re-derived by pasting that call into R after the dataset's "setup".
# The Python tests (tests/stats/test_metafor.py) read these files; CI needs no R.

suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
stopifnot(as.character(packageVersion("metafor")) == "3.8.1")
outdir <- file.path("validation", "metafor", "reference")
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

methods <- c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
tests <- c("z", "knha")
num <- function(x) { x <- as.numeric(x); x }

fit_block <- function(dat, method, test, mods = NULL) {
  call <- sprintf('res <- rma(yi, vi, data=dat, method="%s", test="%s"%s); ci <- confint(res); pr <- predict(res)',
                  method, test, if (is.null(mods)) "" else paste0(", mods=", mods))
  res <- if (is.null(mods)) rma(yi, vi, data = dat, method = method, test = test)
         else rma(yi, vi, data = dat, method = method, test = test, mods = as.formula(mods))
  out <- list(call = call, method = method, test = test, k = res$k,
              beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
              ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), tau2 = num(res$tau2), se_tau2 = num(res$se.tau2),
              I2 = num(res$I2), H2 = num(res$H2), QE = num(res$QE), QEp = num(res$QEp),
              weights = num(weights(res)), test_used = res$test)
  if (!is.null(mods)) { out$QM <- num(res$QM); out$QMp <- num(res$QMp); out$QMdf <- num(res$QMdf) }
  if (method != "FE" && res$k > 1) {
    ci <- confint(res)
    out$tau2_ci_lb <- num(ci$random["tau^2", "ci.lb"]); out$tau2_ci_ub <- num(ci$random["tau^2", "ci.ub"])
    out$I2_ci_lb <- num(ci$random["I^2(%)", "ci.lb"]); out$I2_ci_ub <- num(ci$random["I^2(%)", "ci.ub"])
  }
  if (is.null(mods)) {
    pr <- predict(res)
    out$pi_lb <- num(pr$pi.lb); out$pi_ub <- num(pr$pi.ub)
  }
  out
}

l1o_block <- function(dat, method, test) {
  res <- rma(yi, vi, data = dat, method = method, test = test)
  l <- leave1out(res)
  list(call = sprintf('leave1out(rma(yi, vi, data=dat, method="%s", test="%s"))', method, test),
       method = method, test = test, estimate = num(l$estimate), se = num(l$se), pval = num(l$pval),
       ci_lb = num(l$ci.lb), ci_ub = num(l$ci.ub), Q = num(l$Q), Qp = num(l$Qp), tau2 = num(l$tau2),
       I2 = num(l$I2), H2 = num(l$H2))
}

cumul_block <- function(dat, method, test, order_col) {
  res <- rma(yi, vi, data = dat, method = method, test = test)
  l <- cumul(res, order = dat[[order_col]])
  list(call = sprintf('cumul(rma(yi, vi, data=dat, method="%s", test="%s"), order=dat$%s)', method, test, order_col),
       method = method, test = test, order_col = order_col, order = num(dat[[order_col]]), estimate = num(l$estimate), se = num(l$se),
       pval = num(l$pval), ci_lb = num(l$ci.lb), ci_ub = num(l$ci.ub), Q = num(l$Q), tau2 = num(l$tau2),
       I2 = num(l$I2))
}

subgroup_block <- function(dat, method, test, gcol) {
  g <- dat[[gcol]]
  lev <- sort(unique(as.character(g)))
  fits <- lapply(lev, function(L) rma(yi, vi, data = dat, subset = (as.character(g) == L), method = method, test = test))
  est <- sapply(fits, function(f) num(f$beta)); se <- sapply(fits, function(f) num(f$se))
  sep <- list(levels = lev, k = sapply(fits, function(f) f$k), estimate = est, se = se,
              ci_lb = sapply(fits, function(f) num(f$ci.lb)), ci_ub = sapply(fits, function(f) num(f$ci.ub)),
              pval = sapply(fits, function(f) num(f$pval)), tau2 = sapply(fits, function(f) num(f$tau2)),
              I2 = sapply(fits, function(f) num(f$I2)))
  if (length(lev) > 1 && all(se > 0)) {
    between <- rma(est, sei = se, mods = ~ factor(lev), method = "FE")
    sep$Q_between <- num(between$QM); sep$Q_between_p <- num(between$QMp)
  }
  sep$call <- sprintf('per level L: rma(yi, vi, data=dat, subset=(%s==L), method="%s", test="%s"); between: rma(est, sei=se, mods=~factor(levels), method="FE")$QM',
                      gcol, method, test)
  f1 <- rma(yi, vi, data = dat, mods = ~ factor(g), method = method, test = test)
  f0 <- rma(yi, vi, data = dat, mods = ~ factor(g) - 1, method = method, test = test)
  com <- list(call = sprintf('rma(yi, vi, data=dat, mods=~factor(%s), method="%s", test="%s") and mods=~factor(%s)-1 for the level estimates',
                             gcol, method, test, gcol),
              levels = lev, estimate = num(f0$beta), se = num(f0$se), ci_lb = num(f0$ci.lb), ci_ub = num(f0$ci.ub),
              tau2 = num(f1$tau2), QM = num(f1$QM), QMp = num(f1$QMp), QMdf = num(f1$QMdf))
  list(group = gcol, method = method, test = test, separate = sep, common = com)
}

influence_block <- function(dat, method, test) {
  res <- rma(yi, vi, data = dat, method = method, test = test)
  inf <- influence(res)
  list(call = sprintf('influence(rma(yi, vi, data=dat, method="%s", test="%s"))', method, test),
       method = method, test = test, rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
       cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r), tau2_del = num(inf$inf$tau2.del),
       QE_del = num(inf$inf$QE.del), hat = num(inf$inf$hat), weight = num(inf$inf$weight),
       dfbs = num(inf$dfbs$intrcpt), is_infl = as.logical(inf$is.infl))
}

smallstudy_block <- function(dat, method, test, ni = NULL) {
  res <- rma(yi, vi, data = dat, method = method, test = test)
  out <- list(method = method, test = test)
  rt <- regtest(res)
  out$regtest_rma_sei <- list(call = sprintf('regtest(rma(yi, vi, data=dat, method="%s", test="%s"))', method, test),
                              zval = num(rt$zval), pval = num(rt$pval), dfs = num(rt$dfs), est = num(rt$est),
                              ci_lb = num(rt$ci.lb), ci_ub = num(rt$ci.ub))
  rt <- regtest(res, model = "lm")
  out$regtest_lm_sei <- list(call = 'regtest(res, model="lm")', zval = num(rt$zval), pval = num(rt$pval),
                             dfs = num(rt$dfs), est = num(rt$est))
  if (!is.null(ni)) {
    rt <- regtest(res, predictor = "sqrtninv", ni = ni)
    out$regtest_rma_sqrtninv <- list(call = 'regtest(res, predictor="sqrtninv", ni=ni)', zval = num(rt$zval),
                                     pval = num(rt$pval), dfs = num(rt$dfs), est = num(rt$est))
    rt <- regtest(res, model = "lm", predictor = "sqrtninv", ni = ni)
    out$regtest_lm_sqrtninv <- list(call = 'regtest(res, model="lm", predictor="sqrtninv", ni=ni)', zval = num(rt$zval),
                                    pval = num(rt$pval), dfs = num(rt$dfs), est = num(rt$est))
  }
  rk <- ranktest(res)
  out$ranktest <- list(call = "ranktest(res)", tau = num(rk$tau), pval = num(rk$pval))
  for (est in c("L0", "R0")) {
    tf <- trimfill(res, estimator = est)
    out[[paste0("trimfill_", est)]] <- list(call = sprintf('trimfill(res, estimator="%s")', est),
      k0 = num(tf$k0), side = tf$side, estimate = num(tf$beta), se = num(tf$se), ci_lb = num(tf$ci.lb),
      ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2), yi = num(tf$yi), vi = num(tf$vi), fill = as.logical(tf$fill))
  }
  out
}

write_case <- function(name, source, setup, dat, extra = list()) {
  case <- list(dataset = name, source = source, setup = setup,
               R = R.version.string, metafor = as.character(packageVersion("metafor")),
               data = list(study = as.character(dat$study), yi = num(dat$yi), vi = num(dat$vi)))
  case$rma <- list()
  for (m in methods) for (t in tests) {
    r <- try(fit_block(dat, m, t), silent = TRUE)
    if (!inherits(r, "try-error")) case$rma[[length(case$rma) + 1]] <- r
  }
  case <- c(case, extra)
  writeLines(toJSON(case, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE),
             file.path(outdir, paste0(name, ".json")))
  cat("wrote", name, "\n")
}

# ---------------------------------------------------------------------------------------------------
# 1. BCG vaccine (Colditz et al. 1994): log risk ratios, meta-regression on latitude, cumulative by year
setup <- 'dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg); dat$study <- paste(dat$author, dat$year)'
eval(parse(text = setup))
write_case("bcg", "metadat::dat.bcg", setup, dat, list(
  l1o = list(l1o_block(dat, "REML", "knha"), l1o_block(dat, "DL", "z"), l1o_block(dat, "PM", "knha")),
  cumul = list(cumul_block(dat, "REML", "knha", "year"), cumul_block(dat, "DL", "z", "year")),
  subgroups = list(subgroup_block(dat, "REML", "knha", "alloc"), subgroup_block(dat, "DL", "z", "alloc")),
  metareg = list(fit_block(dat, "REML", "knha", "~ ablat"), fit_block(dat, "REML", "z", "~ ablat + year"),
                 fit_block(dat, "DL", "z", "~ factor(alloc)"), fit_block(dat, "ML", "knha", "~ ablat + factor(alloc)")),
  influence = list(influence_block(dat, "REML", "knha"), influence_block(dat, "DL", "z")),
  smallstudy = list(smallstudy_block(dat, "REML", "knha", ni = dat$tpos + dat$tneg + dat$cpos + dat$cneg),
                    smallstudy_block(dat, "DL", "z")),
  ni = num(dat$tpos + dat$tneg + dat$cpos + dat$cneg),
  groups = list(alloc = as.character(dat$alloc)), mods = list(ablat = num(dat$ablat), year = num(dat$year))))

# 2. Normand (1999): length of hospital stay, per-arm means -> SMD (Hedges' g) and MD
setup <- 'dat <- escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999); dat$study <- dat$source'
eval(parse(text = setup))
esc <- list()
for (vt in c("LS", "UB", "AV")) {
  e <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999, vtype = vt)
  esc[[length(esc) + 1]] <- list(call = sprintf('escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999, vtype="%s")', vt),
                                 measure = "SMD", vtype = vt, yi = num(e$yi), vi = num(e$vi))
}
e <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
esc[[length(esc) + 1]] <- list(call = 'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)',
                               measure = "MD", vtype = "LS", yi = num(e$yi), vi = num(e$vi))
e <- escalc(measure = "ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999)
esc[[length(esc) + 1]] <- list(call = 'escalc(measure="ROM", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)',
                               measure = "ROM", vtype = "LS", yi = num(e$yi), vi = num(e$vi))
arms <- with(dat.normand1999, list(m1i = num(m1i), sd1i = num(sd1i), n1i = num(n1i), m2i = num(m2i), sd2i = num(sd2i), n2i = num(n2i)))
write_case("normand1999", "metadat::dat.normand1999", setup, dat, list(
  escalc = esc, arms = arms,
  l1o = list(l1o_block(dat, "REML", "knha"), l1o_block(dat, "DL", "z")),
  influence = list(influence_block(dat, "REML", "knha")),
  smallstudy = list(smallstudy_block(dat, "REML", "knha", ni = dat$n1i + dat$n2i)),
  ni = num(dat$n1i + dat$n2i)))

# 3. Gibson (2002): asthma self-management; studies without means/SDs give NA effect sizes (omitted)
setup <- 'dat <- escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.gibson2002); dat$study <- paste(dat$author, dat$year); dat <- dat  # rma() drops the NA rows (na.action="na.omit")'
eval(parse(text = setup))
arms <- with(dat.gibson2002, list(m1i = num(m1i), sd1i = num(sd1i), n1i = num(n1i), m2i = num(m2i), sd2i = num(sd2i), n2i = num(n2i)))
write_case("gibson2002", "metadat::dat.gibson2002 (missing values)", setup, dat, list(
  arms = arms,
  escalc = list(list(call = 'escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.gibson2002)',
                     measure = "SMD", vtype = "LS", yi = num(dat$yi), vi = num(dat$vi)))))

# 4. Raudenbush (1985): teacher expectancy; meta-regression on weeks of contact
setup <- 'dat <- dat.raudenbush1985; dat$study <- paste(dat$author, dat$year); dat$weeks.c <- ifelse(dat$weeks > 3, 3, dat$weeks)'
eval(parse(text = setup))
write_case("raudenbush1985", "metadat::dat.raudenbush1985", setup, dat, list(
  metareg = list(fit_block(dat, "REML", "z", "~ weeks.c"), fit_block(dat, "REML", "knha", "~ weeks.c"),
                 fit_block(dat, "DL", "z", "~ factor(setting)"), fit_block(dat, "PM", "knha", "~ weeks.c + factor(tester)")),
  subgroups = list(subgroup_block(dat, "REML", "knha", "tester"), subgroup_block(dat, "REML", "z", "setting")),
  l1o = list(l1o_block(dat, "REML", "knha")),
  cumul = list(cumul_block(dat, "REML", "knha", "year")),
  influence = list(influence_block(dat, "REML", "knha")),
  smallstudy = list(smallstudy_block(dat, "REML", "knha", ni = dat$n1i + dat$n2i)),
  ni = num(dat$n1i + dat$n2i),
  groups = list(tester = as.character(dat$tester), setting = as.character(dat$setting)),
  mods = list(weeks.c = num(dat$weeks.c), year = num(dat$year))))

# 5. Curtis et al. (1998): plant biomass under elevated CO2, log ratio of means (ROM)
setup <- 'dat <- escalc(measure="ROM", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.curtis1998); dat$study <- paste(dat$paper, dat$id)'
eval(parse(text = setup))
arms <- with(dat.curtis1998, list(m1i = num(m1i), sd1i = num(sd1i), n1i = num(n1i), m2i = num(m2i), sd2i = num(sd2i), n2i = num(n2i)))
write_case("curtis1998", "metadat::dat.curtis1998", setup, dat, list(
  arms = arms,
  escalc = list(list(call = 'escalc(measure="ROM", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.curtis1998)',
                     measure = "ROM", vtype = "LS", yi = num(dat$yi), vi = num(dat$vi))),
  subgroups = list(subgroup_block(dat, "REML", "knha", "fungrp")),
  groups = list(fungrp = as.character(dat$fungrp))))

# 6. Fleiss (1993) mental health data, R meta's Fleiss1993cont (meta is not packaged for Debian
#    bookworm, so the 5 rows are written out here).  Checked against the package's own text sources
#    (GitHub guido-s/meta): data/Fleiss93cont.txt (commit b9b48b04), inst/extdata/FLEISS93.MTV and the
#    RevMan 5 export inst/extdata/Fleiss93_CR.csv, which all give Davis 1973 13/5.0/4.70 vs
#    13/6.50/3.80, Florell 1971 30/4.9/1.71 vs 50/6.10/2.30, Gruen 1975 35/22.5/3.44 vs 35/24.90/10.65,
#    Hart 1975 20/12.5/1.47 vs 20/12.30/1.66, Wilson 1977 8/6.5/0.76 vs 8/7.38/1.41 (n/mean/SD,
#    psychotherapy vs control).  tau^2 = 0 under DL.
setup <- paste0('dat <- data.frame(study=c("Davis","Florell","Gruen","Hart","Wilson"), year=c(1973,1971,1975,1975,1977), ',
                'n1i=c(13,30,35,20,8), m1i=c(5,4.9,22.5,12.5,6.5), sd1i=c(4.7,1.71,3.44,1.47,0.76), ',
                'n2i=c(13,50,35,20,8), m2i=c(6.5,6.1,24.9,12.3,7.38), sd2i=c(3.8,2.3,10.65,1.66,1.41)); ',
                'dat <- escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat)')
eval(parse(text = setup))
e <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat)
dmd <- dat; dmd$yi <- e$yi; dmd$vi <- e$vi
arms <- list(m1i = num(dat$m1i), sd1i = num(dat$sd1i), n1i = num(dat$n1i), m2i = num(dat$m2i), sd2i = num(dat$sd2i), n2i = num(dat$n2i))
src <- "meta::Fleiss1993cont (written out; checked against guido-s/meta data/Fleiss93cont.txt)"
write_case("fleiss1993cont", src, setup, dat, list(
  arms = arms,
  escalc = list(list(call = 'escalc(measure="MD", ...same arms...)', measure = "MD", vtype = "LS", yi = num(dmd$yi), vi = num(dmd$vi))),
  l1o = list(l1o_block(dat, "REML", "knha"), l1o_block(dat, "DL", "z")),
  cumul = list(cumul_block(dat, "REML", "knha", "year"))))
setup_md <- paste0(setup, '; dat <- escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat)')
write_case("fleiss1993cont_md", paste(src, "mean differences"), setup_md, dmd)

# 6b. Haeuser et al. (2009, JAMA 301:198), metadat's dat.haeuser2009 (not in metadat 1.2.0): outcome
#     pain, SMD.  Four studies compare two or three antidepressant arms with one shared placebo group
#     (cgrp c5, c7, c15, c21).  The data are metadat's data-raw/dat.haeuser2009.txt (GitHub
#     wviechtb/metadat, commit 50ab3dfe), copied to validation/metafor/data/; read with read.table() it
#     has the md5 that metadat's own test (tests/testthat/test_dat.haeuser2009.r) pins.
#     (a) "haeuser2009": the shared control counted in every comparison, as in the original analysis and
#         in metadat's example;  (b) "haeuser2009_split": the shared control's n divided over the
#         comparisons that use it (Cochrane Handbook 23.3.4; mean and SD unchanged; integer sizes, the
#         remainder to the first comparisons in data order), as livingmeta's split_shared_control().
hfile <- file.path("validation", "metafor", "data", "dat.haeuser2009.txt")
if (requireNamespace("digest", quietly = TRUE))
  stopifnot(digest::digest(read.table(hfile, header = TRUE), algo = "md5") == "9645c147e2c427370561c49b39179ae1")
hsetup <- paste0('dat <- read.table("', hfile, '", header=TRUE); dat <- dat[dat$outcome == "pain", ]; ',
                 'dat$study <- paste(dat$study, dat$year, dat$tgrp)')
for (split in c(FALSE, TRUE)) {
  setup <- hsetup
  if (split) setup <- paste0(setup, '; k <- ave(dat$nci, dat$cgrp, FUN=length); pos <- ave(dat$nci, dat$cgrp, FUN=seq_along); ',
                             'dat$nci <- dat$nci %/% k + (pos <= dat$nci %% k)')
  setup <- paste0(setup, '; dat <- escalc(measure="SMD", m1i=mti, sd1i=sdti, n1i=nti, m2i=mci, sd2i=sdci, n2i=nci, data=dat)')
  eval(parse(text = setup))
  h <- read.table(hfile, header = TRUE); h <- h[h$outcome == "pain", ]
  arms <- with(dat, list(m1i = num(mti), sd1i = num(sdti), n1i = num(nti), m2i = num(mci), sd2i = num(sdci), n2i = num(nci)))
  write_case(if (split) "haeuser2009_split" else "haeuser2009",
             paste("metadat::dat.haeuser2009 (data-raw text, md5-checked), outcome pain",
                   if (split) "- shared control n split" else "- shared control counted in each comparison"),
             setup, dat, list(
    arms = arms,
    shared_control = list(group = as.character(dat$cgrp), n2i_unsplit = num(h$nci)),
    escalc = list(list(call = 'escalc(measure="SMD", m1i=mti, sd1i=sdti, n1i=nti, m2i=mci, sd2i=sdci, n2i=nci, data=dat)',
                       measure = "SMD", vtype = "LS", yi = num(dat$yi), vi = num(dat$vi))),
    l1o = list(l1o_block(dat, "REML", "knha"), l1o_block(dat, "DL", "z")),
    influence = list(influence_block(dat, "REML", "knha")),
    subgroups = list(subgroup_block(dat, "REML", "knha", "type"), subgroup_block(dat, "DL", "z", "type")),
    smallstudy = list(smallstudy_block(dat, "REML", "knha", ni = dat$nti + dat$nci)),
    ni = num(dat$nti + dat$nci),
    groups = list(type = as.character(dat$type))))
}

# 7. Seeded random data sets: small k, k = 2, large heterogeneity, tau^2 on the boundary
seeds <- list(list(k = 2, tau2 = 0.5), list(k = 3, tau2 = 0), list(k = 3, tau2 = 2), list(k = 5, tau2 = 0.05),
              list(k = 7, tau2 = 4), list(k = 10, tau2 = 0.2), list(k = 30, tau2 = 1), list(k = 12, tau2 = 25))
for (i in seq_along(seeds)) {
  s <- seeds[[i]]
  setup <- sprintf('set.seed(%d); k <- %d; vi <- runif(k, 0.01, 0.5); yi <- rnorm(k, 0.4, sqrt(vi + %s)); dat <- data.frame(study=paste0("s", 1:k), yi=yi, vi=vi, g=rep(c("a","b"), length.out=k), x=round(runif(k, 0, 10), 1), year=2000 + sample(k))',
                   1000 + i, s$k, format(s$tau2))
  eval(parse(text = setup))
  extra <- list(l1o = list(l1o_block(dat, "REML", "knha")), groups = list(g = dat$g), mods = list(x = num(dat$x)))
  if (s$k >= 5) {
    extra$subgroups <- list(subgroup_block(dat, "REML", "knha", "g"), subgroup_block(dat, "DL", "z", "g"))
    extra$metareg <- list(fit_block(dat, "REML", "knha", "~ x"), fit_block(dat, "PM", "z", "~ x"))
    extra$cumul <- list(cumul_block(dat, "REML", "knha", "year"))
    extra$influence <- list(influence_block(dat, "REML", "knha"))
  }
  write_case(sprintf("random_%02d_k%d", i, s$k), "seeded random data", setup, dat, extra)
}

# 8. A data set on which metafor's default Fisher scoring for REML oscillates and stops with
#    "Fisher scoring algorithm did not converge" (found among the benchmark's random data sets).
#    The reference is metafor with a halved step and tight threshold, which converges; livingmeta's
#    documented fallback (bisection on the REML estimating equation) must reach the same optimum.
setup <- 'yi <- c(0.22401042084035688,0.58215751934848636,-0.20078874511604627,0.22490475849337693,0.81480269656507964,1.1041674246625368,0.73334041699139552,0.54230591300177189,0.90086208901596854,0.52645396386720589); vi <- c(0.18503318705797961,0.11515219791005683,0.043616388926030043,0.37038507375520802,0.4809760570943058,0.34682030675960135,0.45464191425554701,0.43647980123438884,0.32656664089331183,0.26608032664710163); dat <- data.frame(study=paste0("s", seq_along(yi)), yi=yi, vi=vi)'
eval(parse(text = setup))
default_fails <- inherits(try(rma(yi, vi, data = dat, method = "REML", test = "knha"), silent = TRUE), "try-error")
stopifnot(default_fails)
res <- rma(yi, vi, data = dat, method = "REML", test = "knha", control = list(stepadj = 0.5, maxiter = 1000, threshold = 1e-12))
case <- list(dataset = "reml_nonconvergence", source = "benchmark random data set", setup = setup,
             R = R.version.string, metafor = as.character(packageVersion("metafor")),
             data = list(study = dat$study, yi = num(dat$yi), vi = num(dat$vi)),
             default_call = 'rma(yi, vi, data=dat, method="REML", test="knha")  # Error: Fisher scoring algorithm did not converge',
             converged = list(call = 'rma(yi, vi, data=dat, method="REML", test="knha", control=list(stepadj=0.5, maxiter=1000, threshold=1e-12))',
                              beta = num(res$beta), se = num(res$se), ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub),
                              tau2 = num(res$tau2), I2 = num(res$I2)),
             rma = list())
writeLines(toJSON(case, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE),
           file.path(outdir, "reml_nonconvergence.json"))

# ---------------------------------------------------------------------------------------------------
# 9. Dichotomous outcomes (events/totals per arm): escalc() for OR, RR, RD and PETO with the zero-cell
#    options (add, to, drop00), rma() on log OR with predict(transf=exp), rma.mh() (OR, RR, RD) and
#    rma.peto().  Files binary_<name>.json; "data" holds the log odds ratios (escalc defaults of
#    rma.mh: add=1/2, to="only0", drop00=TRUE) so every estimator and test is checked on them as above.
binary_case <- function(name, source, setup, dat) {
  tab <- list(study = as.character(dat$study), ai = num(dat$ai), n1i = num(dat$n1i), ci = num(dat$ci), n2i = num(dat$n2i))
  esc <- list()
  opts <- list(list(add = 0.5, to = "only0", drop00 = FALSE), list(add = 0.5, to = "only0", drop00 = TRUE),
               list(add = 0.5, to = "all", drop00 = FALSE), list(add = 0.5, to = "if0all", drop00 = TRUE),
               list(add = 0, to = "none", drop00 = FALSE))
  for (m in c("OR", "RR", "RD", "PETO")) for (o in opts) {
    e <- escalc(measure = m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, add = o$add, to = o$to, drop00 = o$drop00)
    esc[[length(esc) + 1]] <- list(call = sprintf('escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat, add=%s, to="%s", drop00=%s)',
                                                  m, format(o$add), o$to, o$drop00),
                                   measure = m, add = o$add, to = o$to, drop00 = o$drop00, yi = num(e$yi), vi = num(e$vi))
  }
  mh <- list()
  for (m in c("OR", "RR", "RD")) for (corr in c(TRUE, FALSE)) {
    r <- rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, measure = m, correct = corr)
    w <- weights(r)
    b <- list(call = sprintf('r <- rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat, measure="%s", correct=%s); weights(r); predict(r, transf=exp)', m, corr),
              measure = m, correct = corr, k = r$k, k_yi = r$k.yi, estimate = num(r$beta), se = num(r$se), zval = num(r$zval),
              pval = num(r$pval), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), QE = num(r$QE), QEp = num(r$QEp),
              I2 = num(r$I2), H2 = num(r$H2), weights = num(w), yi = num(r$yi.f), vi = num(r$vi.f),
              MH = num(r$MH), MHp = num(r$MHp), CO = num(r$CO), COp = num(r$COp), BD = num(r$BD), BDp = num(r$BDp),
              TA = num(r$TA), TAp = num(r$TAp))
    if (m != "RD") { p <- predict(r, transf = exp); b$estimate_exp <- num(p$pred); b$ci_lb_exp <- num(p$ci.lb); b$ci_ub_exp <- num(p$ci.ub) }
    mh[[length(mh) + 1]] <- b
  }
  r <- rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat)
  p <- predict(r, transf = exp)
  peto <- list(list(call = 'r <- rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat); weights(r); predict(r, transf=exp)',
                    k = r$k, k_yi = r$k.yi, estimate = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
                    ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), QE = num(r$QE), QEp = num(r$QEp), I2 = num(r$I2), H2 = num(r$H2),
                    weights = num(weights(r)), yi = num(r$yi.f), vi = num(r$vi.f),
                    estimate_exp = num(p$pred), ci_lb_exp = num(p$ci.lb), ci_ub_exp = num(p$ci.ub)))
  rexp <- list()
  for (m in c("OR", "RR", "RD")) for (mt in list(c("REML", "knha"), c("DL", "z"), c("PM", "knha"))) {
    e <- escalc(measure = m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, drop00 = (m != "RD"))
    r <- rma(yi, vi, data = e, method = mt[1], test = mt[2])
    tr <- if (m == "RD") NULL else exp
    p <- if (is.null(tr)) predict(r) else predict(r, transf = tr)
    rexp[[length(rexp) + 1]] <- list(
      call = sprintf('e <- escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat, drop00=%s); r <- rma(yi, vi, data=e, method="%s", test="%s"); predict(r%s)',
                     m, m != "RD", mt[1], mt[2], if (m == "RD") "" else ", transf=exp"),
      measure = m, method = mt[1], test = mt[2], drop00 = (m != "RD"), k = r$k, estimate = num(r$beta), se = num(r$se),
      ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), pi_lb = num(predict(r)$pi.lb), pi_ub = num(predict(r)$pi.ub),
      tau2 = num(r$tau2), I2 = num(r$I2), QE = num(r$QE), weights = num(weights(r)),
      pred = num(p$pred), pred_ci_lb = num(p$ci.lb), pred_ci_ub = num(p$ci.ub), pred_pi_lb = num(p$pi.lb), pred_pi_ub = num(p$pi.ub))
  }
  e <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, drop00 = TRUE)
  e$study <- dat$study
  e <- e[!is.na(e$yi), ]
  write_case(paste0("binary_", name), source,
             paste0(setup, '; dat <- escalc(measure="OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat, drop00=TRUE); dat <- dat[!is.na(dat$yi), ]'),
             e, list(tables = tab, escalc2x2 = esc, mh = mh, peto = peto, rma_exp = rexp))
}

setup <- 'dat <- with(dat.bcg, data.frame(study=paste(author, year), ai=tpos, n1i=tpos+tneg, ci=cpos, n2i=cpos+cneg))'
eval(parse(text = setup)); binary_case("bcg", "metadat::dat.bcg", setup, dat)
setup <- 'dat <- dat.yusuf1985[dat.yusuf1985$table == "6" & !is.na(dat.yusuf1985$ai), ]; dat <- data.frame(study=paste(dat$id, dat$trial), ai=dat$ai, n1i=dat$n1i, ci=dat$ci, n2i=dat$n2i)'
eval(parse(text = setup)); binary_case("yusuf1985", "metadat::dat.yusuf1985, table 6 (beta blockers, mortality; Snow 1 without data left out; three trials with no deaths in either arm)", setup, dat)
setup <- 'dat <- with(dat.nielweise2007, data.frame(study=paste(author, year), ai=ai, n1i=n1i, ci=ci, n2i=n2i))'
eval(parse(text = setup)); binary_case("nielweise2007", "metadat::dat.nielweise2007 (catheter infections; zero cells, one trial without events)", setup, dat)
for (s in 1:2) {
  setup <- sprintf('set.seed(%d); k <- 10; n1i <- sample(20:200, k); n2i <- sample(20:200, k); ai <- rbinom(k, n1i, 0.02); ci <- rbinom(k, n2i, 0.04); dat <- data.frame(study=paste0("s", 1:k), ai=ai, n1i=n1i, ci=ci, n2i=n2i)', 2000 + s)
  eval(parse(text = setup)); binary_case(sprintf("rare_%02d", s), "seeded random rare-event data", setup, dat)
}

# ---------------------------------------------------------------------------------------------------
# 10. The data-kinds test review (tests/fixtures/kinds_review, written from this file by
#     validation/metafor/make_kinds_review.py): one outcome per data kind and pooling method, built from
#     published data sets, with the pooled results metafor gives.  Written to validation/metafor/kinds_review.json.
kr <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")), outcomes = list())
pooled <- function(r, transf = FALSE) {
  p <- if (transf) predict(r, transf = exp) else predict(r)
  out <- list(k = r$k, estimate = num(r$beta), se = num(r$se), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub),
              pval = num(r$pval), tau2 = num(r$tau2), I2 = num(r$I2), Q = num(r$QE), Q_pval = num(r$QEp),
              weights = num(weights(r)))
  if (transf) { out$estimate_exp <- num(p$pred); out$ci_lb_exp <- num(p$ci.lb); out$ci_ub_exp <- num(p$ci.ub)
                if (!is.null(p$pi.lb)) { out$pi_lb_exp <- num(p$pi.lb); out$pi_ub_exp <- num(p$pi.ub) } }
  if (inherits(r, "rma.uni")) { out$pi_lb <- num(predict(r)$pi.lb); out$pi_ub <- num(predict(r)$pi.ub) }
  out
}
# (a) BCG vaccine and tuberculosis (Colditz et al. 1994, JAMA 271:698; metadat dat.bcg): events/totals, RR, REML + Knapp-Hartung
d <- with(dat.bcg, data.frame(study = paste(author, year), author = author, year = year, ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg, alloc = alloc))
e <- escalc(measure = "RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, drop00 = TRUE)
kr$outcomes$tb <- c(list(call = 'rma(yi, vi, data=escalc(measure="RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, drop00=TRUE), method="REML", test="knha"); predict(., transf=exp)',
                         data = d), pooled(rma(yi, vi, data = e, method = "REML", test = "knha"), TRUE))
sg <- lapply(sort(unique(d$alloc)), function(L) { r <- rma(yi, vi, data = e, subset = (alloc == L), method = "REML", test = "knha"); p <- predict(r, transf = exp)
  list(level = L, k = r$k, estimate = num(r$beta), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), estimate_exp = num(p$pred), ci_lb_exp = num(p$ci.lb), ci_ub_exp = num(p$ci.ub)) })
kr$outcomes$tb$subgroups <- list(call = 'per level L of alloc: rma(yi, vi, data=e, subset=(alloc == L), method="REML", test="knha"); predict(., transf=exp)', levels = sg)
# (b) beta blockers and mortality (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335, table 6; metadat dat.yusuf1985), first 12 trials with data:
#     Peto OR (rma.peto) and Mantel-Haenszel OR (rma.mh); Pitt has no deaths in either arm
d <- dat.yusuf1985[dat.yusuf1985$table == "6" & !is.na(dat.yusuf1985$ai), ][1:12, ]
d <- data.frame(study = d$trial, author = d$trial, year = 1985, ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
kr$outcomes$mortality_peto <- c(list(call = 'rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d); predict(., transf=exp)', data = d),
                                pooled(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d), TRUE))
kr$outcomes$mortality_mh <- c(list(call = 'rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, measure="OR"); predict(., transf=exp)', data = d),
                              pooled(rma.mh(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, measure = "OR"), TRUE))
# (c) length of hospital stay in days (Normand 1999, Stat Med 18:321; metadat dat.normand1999): means/SDs, MD, REML + Knapp-Hartung
d <- with(dat.normand1999, data.frame(study = source, author = source, year = 1999, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i))
e <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
kr$outcomes$los <- c(list(call = 'rma(yi, vi, data=escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=d), method="REML", test="knha")', data = d),
                     pooled(rma(yi, vi, data = e, method = "REML", test = "knha")))
# (d) MYCN amplification and overall survival in neuroblastoma (Riley et al. 2003, Br J Cancer 88:1191; metadat dat.riley2003), first 8 studies
#     of outcome OS: hazard ratios as a paper prints them (2 decimals), studies 1-5 with the SE of the log HR, 6-8 with a 95% CI (2 decimals)
d <- dat.riley2003[dat.riley2003$outcome == "OS", ][1:8, ]
z <- qnorm(0.975)
d <- data.frame(study = paste("Study", d$study), author = paste("Study", d$study), year = 2003, hr = round(exp(d$yi), 2),
                se = ifelse(seq_len(8) <= 5, d$sei, NA), ci_lb = ifelse(seq_len(8) > 5, round(exp(d$yi - z * d$sei), 2), NA),
                ci_ub = ifelse(seq_len(8) > 5, round(exp(d$yi + z * d$sei), 2), NA))
d$yi <- log(d$hr); d$sei <- ifelse(is.na(d$se), (log(d$ci_ub) - log(d$ci_lb)) / (2 * z), d$se)
kr$outcomes$os <- c(list(call = 'd$yi <- log(d$hr); d$sei <- ifelse(is.na(d$se), (log(d$ci_ub) - log(d$ci_lb)) / (2 * qnorm(0.975)), d$se); rma(yi, sei=sei, data=d, method="REML", test="knha"); predict(., transf=exp)',
                         data = d), pooled(rma(yi, sei = sei, data = d, method = "REML", test = "knha"), TRUE))
writeLines(toJSON(kr, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE, dataframe = "columns"),
           file.path("validation", "metafor", "kinds_review.json"))
cat("wrote kinds_review\n")

# ---------------------------------------------------------------------------------------------------
# 11. One study with a tiny sampling variance (issue 14): metafor warns "Ratio of largest to smallest
#     sampling variance extremely large" from max(vi)/min(vi) >= 1e7.  The two cases of the issue, and
#     three seeded sweeps of vi[1] = 10^-j, j = 1..14 (tau^2 = 0, 0.5 and 0.2 in the generating model),
#     every estimator with the z test.  metafor forms P = W - W X (X'WX)^-1 X'W explicitly, which loses
#     about log10(max(vi)/min(vi)) digits; tests/stats/test_metafor.py allows for that and checks the
#     traces against exact rational arithmetic.  Written to reference/dominant_study.json.
dominant <- list()
dom_case <- function(name, setup) {
  eval(parse(text = setup), envir = globalenv())
  dat <- data.frame(study = paste0("s", seq_along(yi)), yi = yi, vi = vi)
  blocks <- list()
  for (m in methods) {
    w <- character(0)
    r <- withCallingHandlers(try(fit_block(dat, m, "z"), silent = TRUE),
                             warning = function(c) { w <<- c(w, conditionMessage(c)); invokeRestart("muffleWarning") })
    if (!inherits(r, "try-error")) { r$warnings <- unique(w); blocks[[length(blocks) + 1]] <- r }
  }
  list(name = name, setup = setup, vimaxmin = max(vi) / min(vi),
       data = list(study = dat$study, yi = num(dat$yi), vi = num(dat$vi)), rma = blocks)
}
dominant[[length(dominant) + 1]] <- dom_case("issue_reml_hang", 'set.seed(110); vi <- c(1e-10, runif(9, 0.1, 1)); yi <- rnorm(10, 0.3, sqrt(vi + 0.2))')
for (j in 1:14) {
  dominant[[length(dominant) + 1]] <- dom_case(sprintf("sweep_a_%02d", j),
    sprintf('set.seed(15); vi <- c(1e-%d, rep(0.1, 9)); yi <- rnorm(10, 0.4, 0.4)', j))
}
for (j in 1:14) {
  dominant[[length(dominant) + 1]] <- dom_case(sprintf("sweep_b_%02d", j),
    sprintf('set.seed(%d); vi <- c(1e-%d, runif(9, 0.1, 1)); yi <- rnorm(10, 0.3, sqrt(vi + 0.5))', 3000 + j, j))
}
for (j in 1:14) {   # the design of the first case with every vi[1] (j = 10 is that case)
  dominant[[length(dominant) + 1]] <- dom_case(sprintf("sweep_c_%02d", j),
    sprintf('set.seed(110); vi <- c(1e-%d, runif(9, 0.1, 1)); yi <- rnorm(10, 0.3, sqrt(vi + 0.2))', j))
}
writeLines(toJSON(list(dataset = "dominant_study", source = "seeded random data, one dominant study (issue 14)",
                       R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       rma = list(), cases = dominant),
                  digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = TRUE),
           file.path(outdir, "dominant_study.json"))
cat("wrote dominant_study\n")
