# Reference values for likelihax distribution fitting: R MASS::fitdistr.
# Run from the repository root:  Rscript tests/reference/fitdistr.R
# Reads tests/reference/fitdistr_data.csv (made by a fixed-seed NumPy script,
# one column per family) and writes tests/reference/fitdistr_results.csv with
# estimate, SE and log-likelihood per family and parameter. Optimizations use
# BFGS with a tight relative tolerance so the references are precise.
suppressMessages(library(MASS))
d <- read.csv("tests/reference/fitdistr_data.csv")
ctl <- list(reltol = 1e-15, maxit = 10000)
fits <- list(
  normal = fitdistr(d$normal, "normal"),
  lognormal = fitdistr(d$lognormal, "lognormal"),
  exponential = fitdistr(d$exponential, "exponential"),
  poisson = fitdistr(d$poisson, "poisson"),
  geometric = fitdistr(d$geometric, "geometric"),
  gamma = fitdistr(d$gamma, "gamma", method = "BFGS", control = ctl),
  weibull = fitdistr(d$weibull, "weibull", method = "BFGS", control = ctl),
  logistic = fitdistr(d$logistic, "logistic", method = "BFGS", control = ctl),
  negbin = fitdistr(d$negbin, "negative binomial", method = "BFGS", control = ctl),
  student_t = fitdistr(d$student_t, "t", method = "BFGS", control = ctl,
                       start = list(m = 1, s = 2, df = 5))
)
rows <- do.call(rbind, lapply(names(fits), function(f) {
  x <- fits[[f]]
  data.frame(family = f, param = names(x$estimate), estimate = unname(x$estimate),
             se = unname(x$sd), loglik = x$loglik)
}))
write.csv(rows, "tests/reference/fitdistr_results.csv", row.names = FALSE)
cat(R.version.string, "; MASS", as.character(packageVersion("MASS")), "\n")
print(rows, digits = 12)
