# Reference profile-likelihood intervals for likelihax.inference.profile_ci.
# Run from the repository root:  Rscript tests/reference/profile.R
# Data: tests/reference/glm_data_{spector,fair}.csv (statsmodels' public data,
# written by export_glm_data.py). Writes tests/reference/profile_results.csv with
# columns model, term, method, lower, upper (17 significant digits):
#   method "mass":    MASS's confint() on the glm (profile.glm + spline
#                     interpolation of the signed root; about 4-5 digits);
#   method "uniroot": the same 95% profile interval solved directly: for each
#                     coefficient b_j, refit the glm with b_j held at a value
#                     (offset) and find where 2 * (logLik_hat - logLik_j) equals
#                     qchisq(0.95, 1) with uniroot (tol 1e-13), each refit to
#                     glm.control(epsilon = 1e-15).
suppressMessages(library(MASS))
options(digits = 17)
ctl <- glm.control(epsilon = 1e-15, maxit = 200)
rd <- function(name) read.csv(sprintf("tests/reference/glm_data_%s.csv", name))
spector <- rd("spector")
fair <- rd("fair")

models <- list(
  spector_logit = list(formula = GRADE ~ GPA + TUCE + PSI, family = binomial("logit"),
                       data = spector, offset = NULL),
  fair_poisson_offset = list(
    formula = affairs_n ~ rate_marriage + age + factor(religious) + educ,
    family = poisson("log"), data = fair, offset = log(fair$yrs_married))
)

rows <- list()
q <- qchisq(0.95, 1)
for (name in names(models)) {
  m <- models[[name]]
  fit <- glm(m$formula, m$family, m$data, offset = m$offset, control = ctl)
  X <- model.matrix(fit)
  y <- fit$y
  w <- fit$prior.weights
  off <- if (is.null(m$offset)) rep(0, nrow(X)) else m$offset
  ll_hat <- as.numeric(logLik(fit))
  ci <- suppressMessages(confint(fit))
  se <- sqrt(diag(vcov(fit)))
  for (j in seq_len(ncol(X))) {
    term <- colnames(X)[j]
    llj <- function(b) {
      o <- off + b * X[, j]
      # No start= : from the MLE's coefficients IRLS can diverge for far values
      # of b (spector is small and its profiles are far from quadratic).
      f <- glm.fit(X[, -j, drop = FALSE], y, weights = w, offset = o,
                   family = m$family, control = ctl)
      stopifnot(f$converged)
      # logLik of the refit: the family's aic gives -2 loglik (+2 rank); rank
      # is irrelevant here since both sides use family$aic the same way.
      -0.5 * (m$family$aic(y, rep(1, length(y)), f$fitted.values, w, f$deviance))
    }
    g <- function(b) 2 * (ll_hat - llj(b)) - q
    b0 <- coef(fit)[j]
    lo <- uniroot(g, c(b0 - 6 * se[j], b0), tol = 1e-13)$root
    hi <- uniroot(g, c(b0, b0 + 6 * se[j]), tol = 1e-13)$root
    rows[[length(rows) + 1]] <- data.frame(model = name, term = term, method = "uniroot",
                                           lower = lo, upper = hi)
    rows[[length(rows) + 1]] <- data.frame(model = name, term = term, method = "mass",
                                           lower = ci[j, 1], upper = ci[j, 2])
  }
}
out <- do.call(rbind, rows)
out$lower <- sprintf("%.17g", out$lower)
out$upper <- sprintf("%.17g", out$upper)
write.csv(out, "tests/reference/profile_results.csv", row.names = FALSE, quote = TRUE)
cat(sprintf("R %s, MASS %s\n", getRversion(), packageVersion("MASS")))
print(out)
