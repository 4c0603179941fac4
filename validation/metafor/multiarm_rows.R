# The multi-arm test review's study files (tests/fixtures/multiarm_review/studies/, read with R yaml) as one
# row per outcome entry, in livingmeta's order (study id, then file order); a shared control's data taken
# from the entry that gives them. Sourced by make_multiarm_review_reference.R and
# make_comparison_groups_reference.R.
multiarm_rows <- function(folder = "tests/fixtures/multiarm_review/studies") {
  rows <- list()
  for (f in sort(list.files(folder, pattern = "\\.yaml$", full.names = TRUE))) {
    s <- yaml::read_yaml(f, handlers = list("bool#no" = function(x) x, "bool#yes" = function(x) x))  # keep key `n`
    shared <- list()
    for (e in s$outcomes) if (!is.null(e$control_group) && !is.null(e[["control"]]))
      shared[[paste(e$outcome, e$control_group)]] <- e[["control"]]
    i <- 0
    for (e in s$outcomes) {
      i <- i + 1
      ctrl <- if (is.null(e[["control"]])) shared[[paste(e$outcome, e$control_group)]] else e$control
      nz <- function(x) if (is.null(x)) NA else x
      rows[[length(rows) + 1]] <- data.frame(
        study = s$study, outcome = e$outcome, row = i, route = s$groups$route,
        comparison = nz(e$comparison), experiment = nz(e$experiment), control_group = nz(e$control_group),
        m1i = nz(e$treatment$mean), sd1i = nz(e$treatment$sd), n1i = nz(e$treatment$n),
        m2i = nz(ctrl$mean), sd2i = nz(ctrl$sd), n2i = nz(ctrl$n),
        ai = nz(e$treatment$events), t1 = nz(e$treatment$total), ci = nz(ctrl$events), t2 = nz(ctrl$total))
    }
  }
  dat <- do.call(rbind, rows)
  dat[order(dat$study, dat$row), ]   # livingmeta: study-id order, file order within a study
}
