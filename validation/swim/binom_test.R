# Reference values of livingmeta.synthesis.vote (sign test and Clopper-Pearson interval): R's binom.test.
# Regenerate: Rscript validation/swim/binom_test.R > validation/swim/binom_test.json
cases <- list(c(12, 12), c(4, 4), c(1, 3), c(7, 10), c(3, 10), c(0, 5), c(5, 9), c(20, 31), c(1, 1), c(50, 80))
rows <- sapply(cases, function(cs) {
  x <- cs[1]; n <- cs[2]
  bt <- binom.test(x, n, p = 0.5, alternative = "two.sided", conf.level = 0.95)   # the R call of every row
  sprintf('{"x": %d, "n": %d, "p_value": %.17g, "ci_lb": %.17g, "ci_ub": %.17g}',
          as.integer(x), as.integer(n), bt$p.value, bt$conf.int[1], bt$conf.int[2])
})
cat('{"source": "R ', as.character(getRversion()), ' stats::binom.test(x, n, p = 0.5, conf.level = 0.95)",\n "cases": [\n  ',
    paste(rows, collapse = ",\n  "), "\n]}\n", sep = "")
