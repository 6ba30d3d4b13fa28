# Reference values for likelihax GLMs: base R glm() and MASS::glm.nb().
# Run from the repository root:  Rscript tests/reference/glm.R
# Reads tests/reference/glm_data_*.csv (statsmodels' public data sets, written
# by tests/reference/export_glm_data.py) and writes
# tests/reference/glm_results.csv, one long table with columns
#   model, kind, term, estimate, std_error
# kind "coef": coefficients and summary() standard errors (R's term names);
# kind "stat": logLik, AIC, deviance, null.deviance, dispersion
#   (summary(fit)$dispersion), df.residual, nobs (estimate column);
# kind "nb": for glm.nb, theta with MASS's SE.theta, and the standard errors of
#   (coefficients, theta) from the inverse of the *joint* observed information
#   (analytic Hessian of the NB2 log-likelihood, computed below), which is what
#   likelihax reports for NB2.
# IRLS runs to glm.control(epsilon = 1e-14, maxit = 100). That criterion is on
# the relative change of the deviance, which is quadratic in the error of the
# coefficients: with a non-canonical link (linear convergence) IRLS can stop
# with a small coefficient off by ~1e-6 relative (star98_cloglog, PCTCHRT:
# 2.6581787e-4 where one more Fisher step gives 2.6581723e-4). So each glm() fit
# is refitted from its own coefficients (start = coef(fit), more IRLS steps)
# until no coefficient moves by more than 1e-12 relative; the script prints
# how many refits each model took. All numbers are written with 17 significant
# digits.
suppressMessages(library(MASS))
options(digits = 17)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
rd <- function(name) read.csv(sprintf("tests/reference/glm_data_%s.csv", name))
spector <- rd("spector")
star98 <- rd("star98")
fair <- rd("fair")
randhie <- rd("randhie")
scotland <- rd("scotland")

fits <- list(
  spector_logit = glm(GRADE ~ GPA + TUCE + PSI, binomial("logit"), spector,
                      control = ctl),
  spector_probit = glm(GRADE ~ GPA + TUCE + PSI, binomial("probit"), spector,
                       control = ctl),
  spector_cloglog = glm(GRADE ~ GPA + TUCE + factor(PSI), binomial("cloglog"),
                        spector, control = ctl),
  star98_logit = glm(cbind(NABOVE, NBELOW) ~ LOWINC + PERASIAN + PERBLACK +
                       PERHISP + PERMINTE * AVYRSEXP, binomial("logit"), star98,
                     control = ctl),
  star98_cloglog = glm(cbind(NABOVE, NBELOW) ~ LOWINC + PERMINTE + PCTCHRT,
                       binomial("cloglog"), star98, control = ctl),
  fair_poisson_offset = glm(affairs_n ~ rate_marriage + age + factor(religious) +
                              educ + offset(log(yrs_married)), poisson("log"),
                            fair, control = ctl),
  randhie_nb2 = glm.nb(mdvis ~ lncoins + idp + lpi + physlm + disea +
                         factor(health), randhie, control = ctl),
  scotland_gamma_inverse = glm(YES ~ COUTAX + UNEMPF + MOR + ACT + GDP + AGE,
                               Gamma("inverse"), scotland, control = ctl),
  scotland_gamma_log = glm(YES ~ COUTAX * UNEMPF + AGE, Gamma("log"), scotland,
                           control = ctl),
  scotland_invgauss = glm(YES ~ COUTAX + UNEMPF + AGE, inverse.gaussian("1/mu^2"),
                          scotland, control = ctl),
  scotland_gaussian_log = glm(YES ~ UNEMPF + MOR + AGE, gaussian("log"), scotland,
                              control = ctl)
)

# Joint score and observed information of the NB2 log-likelihood (log link) in
# (beta, theta): l_i = lgamma(y+th) - lgamma(th) - lgamma(y+1) + th log th
#   + y log mu - (y+th) log(th+mu).
nb2_joint <- function(fit) {
  X <- model.matrix(fit); y <- fit$y; mu <- fitted(fit); th <- fit$theta
  s_eta <- th * (y - mu) / (th + mu)
  h_eta <- -th * mu * (th + y) / (th + mu)^2
  h_eta_th <- mu * (y - mu) / (th + mu)^2
  s_th <- sum(digamma(y + th) - digamma(th) + log(th) + 1 - log(th + mu) -
                (y + th) / (th + mu))
  h_th <- sum(trigamma(y + th) - trigamma(th) + 1 / th - 2 / (th + mu) +
                (y + th) / (th + mu)^2)
  H <- rbind(cbind(crossprod(X, h_eta * X), crossprod(X, h_eta_th)),
             c(crossprod(X, h_eta_th), h_th))
  list(score = c(crossprod(X, s_eta), s_th), info = -H)
}

# Refit from the converged coefficients until they stop moving (see the top).
polish <- function(fit, name) {
  for (i in 0:20) {
    b <- coef(fit)
    fit <- update(fit, start = b)
    moved <- max(abs(coef(fit) - b) / abs(b))
    if (moved < 1e-12) break
  }
  cat(sprintf("%-24s %d refit(s), last relative move %.2g\n",
              name, i + 1, moved))
  fit
}
for (m in names(fits)) if (!inherits(fits[[m]], "negbin")) fits[[m]] <- polish(fits[[m]], m)

f17 <- function(x) sprintf("%.17g", x)
rows <- list()
add <- function(model, kind, term, estimate, std_error = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    model = model, kind = kind, term = term, estimate = f17(estimate),
    std_error = ifelse(is.na(std_error), "NA", f17(std_error)))
}
for (m in names(fits)) {
  fit <- fits[[m]]
  stopifnot(fit$converged)
  s <- summary(fit)
  co <- coef(s)
  add(m, "coef", rownames(co), co[, "Estimate"], co[, "Std. Error"])
  ll <- logLik(fit)
  stats <- c(logLik = as.numeric(ll), AIC = AIC(fit), deviance = deviance(fit),
             null.deviance = fit$null.deviance, dispersion = s$dispersion,
             df.residual = fit$df.residual, nobs = nobs(fit))
  add(m, "stat", names(stats), unname(stats))
  if (inherits(fit, "negbin")) {
    add(m, "nb", "theta", fit$theta, fit$SE.theta)
    j <- nb2_joint(fit)
    se <- sqrt(diag(solve(j$info)))
    add(m, "nb_joint_oim", c(names(coef(fit)), "theta"), c(coef(fit), fit$theta), se)
    cat(m, ": joint score at the glm.nb estimate (should be ~0):\n")
    print(j$score)
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/glm_results.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "; MASS", as.character(packageVersion("MASS")), "\n")
print(out, row.names = FALSE)
