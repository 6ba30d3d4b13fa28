# Reference values for likelihax multinomial and ordinal regression:
# R nnet::multinom and MASS::polr.
# Run from the repository root:  Rscript tests/reference/multinom_polr.R
#
# Reads   tests/reference/multinom_polr_anes96.csv  (statsmodels anes96, PID and
#         five regressors) and tests/reference/multinom_polr_fair.csv
#         (statsmodels fair, rate_marriage and five regressors); both are
#         written from statsmodels' copies by `export_statsmodels_data()` in
#         tests/models/multinomial_ordinal/test_multinomial_ordinal.py, which also
#         checks them.
# Writes  tests/reference/multinom_polr_housing.csv (MASS::housing, factor
#         levels in R's order, which the test restores) and
#         tests/reference/multinom_polr_results.csv: one row per model and
#         coefficient with estimate, standard error and log-likelihood.
#
# Precision: nnet::multinom runs BFGS to reltol 1e-14; its standard errors come
# from the analytic information (nnet:::multinomHess). polr runs BFGS with its
# analytic gradient to reltol 1e-15; Hess = TRUE takes central differences of
# that gradient, with step 1e-5 instead of optim's default 1e-3 (ndeps) so the
# standard errors carry about 1e-9 relative error instead of 1e-6.
suppressMessages({
  library(MASS)
  library(nnet)
})
ref <- "tests/reference"
anes <- read.csv(file.path(ref, "multinom_polr_anes96.csv"))
fair <- read.csv(file.path(ref, "multinom_polr_fair.csv"))
write.csv(housing, file.path(ref, "multinom_polr_housing.csv"), row.names = FALSE)

rows <- list()
add_multinom <- function(name, fit) {
  s <- summary(fit)
  est <- s$coefficients
  se <- s$standard.errors
  par <- as.vector(outer(rownames(est), colnames(est), paste, sep = ":"))
  rows[[name]] <<- data.frame(
    model = name, param = par, estimate = as.vector(est), se = as.vector(se),
    loglik = as.numeric(logLik(fit)), converged = fit$convergence == 0
  )
}
add_polr <- function(name, fit) {
  est <- c(coef(fit), fit$zeta)
  rows[[name]] <<- data.frame(
    model = name, param = names(est), estimate = unname(est),
    se = unname(sqrt(diag(vcov(fit)))), loglik = as.numeric(logLik(fit)),
    converged = fit$convergence == 0
  )
}

mctl <- list(reltol = 1e-14, maxit = 1000, trace = FALSE)
add_multinom("multinom_anes96", do.call(multinom, c(list(
  factor(PID) ~ logpopul + selfLR + age + educ + income, data = anes), mctl)))
add_multinom("multinom_housing", do.call(multinom, c(list(
  Sat ~ Infl + Type + Cont, data = housing, weights = housing$Freq), mctl)))

polr_ctl <- function(npar) list(reltol = 1e-15, maxit = 10000, ndeps = rep(1e-5, npar))
fair$rate <- factor(fair$rate_marriage)
fair_f <- rate ~ age + yrs_married + children + religious + educ
for (m in c("logistic", "probit", "cloglog")) {
  add_polr(paste0("polr_fair_", m), polr(fair_f, data = fair, method = m,
                                          Hess = TRUE, control = polr_ctl(9)))
}
for (m in c("logistic", "probit")) {
  add_polr(paste0("polr_housing_", m),
           polr(Sat ~ Infl + Type + Cont, data = housing, weights = Freq,
                method = m, Hess = TRUE, control = polr_ctl(8)))
}

out <- do.call(rbind, rows)
write.csv(out, file.path(ref, "multinom_polr_results.csv"), row.names = FALSE)
cat(R.version.string, "; MASS", as.character(packageVersion("MASS")),
    "; nnet", as.character(packageVersion("nnet")), "\n")
print(out, digits = 12)
