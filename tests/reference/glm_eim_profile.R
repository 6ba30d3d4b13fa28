# Reference numbers for tests/models/glm/test_glm_eim_profile.py: NB2's expected
# information (MASS::glm.nb) and full profile-likelihood intervals of GLMs with
# an estimated dispersion.
# Run from the repository root:  Rscript tests/reference/glm_eim_profile.R
# Writes tests/reference/glm_eim_profile_data.csv (simulated data, seed 18) and
# tests/reference/glm_eim_profile_results.csv, a long table with columns
#   model, kind, term, value   (17 significant digits)
# kinds:
#   "coef", "se":     coefficients and summary() standard errors; for glm.nb
#                     the expected information given theta (summary.negbin);
#   "theta", "se_theta": glm.nb's theta and MASS's SE.theta (observed
#                     information of theta with the coefficients fixed);
#   "theta_tight", "se_theta_tight": theta.ml rerun at glm.nb's fitted means to
#                     eps = 1e-14, and its SE (see below);
#   "mass_lower", "mass_upper": confint() (MASS profile.glm: signed root of
#                     the deviance change over the fixed Pearson dispersion,
#                     spline-interpolated, normal quantiles);
#   "full_lower", "full_upper": 95% interval of the full profile likelihood,
#                     the dispersion maximized out at every value: for b_j = v
#                     the other coefficients are refitted by glm.fit with the
#                     offset v * x_j (their estimate does not depend on the
#                     dispersion), then the log-likelihood is maximized over the
#                     dispersion (Gaussian and inverse Gaussian: D/n in closed
#                     form; gamma: optimize() on log(phi)), and uniroot (tol
#                     1e-13) solves 2 * (l_hat - l_p(v)) = qchisq(0.95, 1);
#   "loglik_full":    the joint maximum of the log-likelihood over (beta, phi);
#   "dispersion_ml":  its dispersion.
suppressMessages(library(MASS))
options(digits = 17)
set.seed(18)
n <- 50
x <- rnorm(n)
d <- data.frame(
  x = x,
  y_nb = rnbinom(n, size = 2, mu = exp(0.5 + 0.4 * x)),
  y_gamma = rgamma(n, shape = 2, scale = exp(0.5 + 0.3 * x) / 2),
  y_gauss = 1 + 0.5 * x + rnorm(n),
  y_ig = exp(0.2 + 0.3 * x) * rgamma(n, shape = 20, scale = 1 / 20)
)
write.csv(data.frame(lapply(d, function(v) sprintf("%.17g", v))),
          "tests/reference/glm_eim_profile_data.csv", row.names = FALSE, quote = FALSE)
d <- read.csv("tests/reference/glm_eim_profile_data.csv")

ctl <- glm.control(epsilon = 1e-15, maxit = 200)
rows <- list()
add <- function(model, kind, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                          value = sprintf("%.17g", value))
}

nb <- glm.nb(y_nb ~ x, d, control = ctl)
s <- coef(summary(nb))
add("nb2", "coef", rownames(s), s[, "Estimate"])
add("nb2", "se", rownames(s), s[, "Std. Error"])
add("nb2", "theta", "theta", nb$theta)
add("nb2", "se_theta", "theta", nb$SE.theta)
# glm.nb's SE.theta comes from theta.ml's information one Newton step before its
# convergence (eps = .Machine$double.eps^0.25); the same formula at the
# converged theta and means:
tight <- theta.ml(nb$y, fitted(nb), limit = 200, eps = 1e-14)
add("nb2", "theta_tight", "theta", tight)
add("nb2", "se_theta_tight", "theta", attr(tight, "SE"))

# Log-likelihood at means mu maximized over the dispersion.
ll_max_phi <- function(fam, y, mu) {
  if (fam == "gaussian") {
    phi <- mean((y - mu)^2)
    return(c(sum(dnorm(y, mu, sqrt(phi), log = TRUE)), phi))
  }
  if (fam == "inverse.gaussian") {
    phi <- mean((y - mu)^2 / (y * mu^2))
    ll <- sum(-0.5 * (log(2 * pi * phi) + 3 * log(y)) - (y - mu)^2 / (2 * phi * y * mu^2))
    return(c(ll, phi))
  }
  f <- function(lp) -sum(dgamma(y, shape = exp(-lp), scale = mu * exp(lp), log = TRUE))
  o <- optimize(f, c(-10, 5), tol = 1e-14)
  c(-o$objective, exp(o$minimum))
}

models <- list(
  gaussian = list(formula = y_gauss ~ x, family = gaussian(), fam = "gaussian"),
  gamma_log = list(formula = y_gamma ~ x, family = Gamma("log"), fam = "Gamma"),
  invgauss_log = list(formula = y_ig ~ x, family = inverse.gaussian("log"),
                      fam = "inverse.gaussian")
)
q <- qchisq(0.95, 1)
for (name in names(models)) {
  m <- models[[name]]
  fit <- glm(m$formula, m$family, d, control = ctl)
  s <- coef(summary(fit))
  add(name, "coef", rownames(s), s[, "Estimate"])
  add(name, "se", rownames(s), s[, "Std. Error"])
  ci <- suppressMessages(confint(fit))
  add(name, "mass_lower", rownames(ci), ci[, 1])
  add(name, "mass_upper", rownames(ci), ci[, 2])
  X <- model.matrix(fit)
  y <- fit$y
  top <- ll_max_phi(m$fam, y, fitted(fit))
  add(name, "loglik_full", "", top[1])
  add(name, "dispersion_ml", "", top[2])
  for (j in seq_len(ncol(X))) {
    lp <- function(v) {
      f <- glm.fit(X[, -j, drop = FALSE], y, offset = v * X[, j],
                   family = m$family, control = ctl)
      stopifnot(f$converged)
      ll_max_phi(m$fam, y, f$fitted.values)[1]
    }
    g <- function(v) 2 * (top[1] - lp(v)) - q
    b0 <- coef(fit)[j]
    se <- s[j, "Std. Error"]
    add(name, "full_lower", colnames(X)[j],
        uniroot(g, c(b0 - 5 * se, b0), tol = 1e-13)$root)
    add(name, "full_upper", colnames(X)[j],
        uniroot(g, c(b0, b0 + 5 * se), tol = 1e-13)$root)
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/glm_eim_profile_results.csv", row.names = FALSE,
          quote = FALSE)
cat(R.version.string, "; MASS", as.character(packageVersion("MASS")), "\n")
print(out, row.names = FALSE)
