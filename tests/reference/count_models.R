# Reference values for zero-inflated, hurdle and zero-truncated count
# regressions: pscl 1.5.5 (R 4.2) on its bioChemists data (915 PhD
# biochemists; art = articles in the last three years of the PhD).
# Run from the repository root:  Rscript tests/reference/count_models.R
# Writes tests/reference/count_models_data_biochemists.csv (fem and mar as
# 0/1 columns: fem = 1 for "Women", mar = 1 for "Married") and
# tests/reference/count_models_results.csv with columns model, kind, term, value:
#   zip_full    zeroinfl(art ~ fem + mar + kid5 + phd + ment, dist = "poisson")
#               (the same regressors in both parts)
#   zinb        zeroinfl(art ~ fem + mar + kid5 + phd + ment | ment, dist = "negbin")
#   hp          hurdle(art ~ fem + mar + kid5 + phd + ment | ment, dist = "poisson")
#   hnb         hurdle(art ~ fem + mar + kid5 + phd + ment, dist = "negbin")
#   zip_off     zeroinfl(art ~ fem + ment + offset(log(phd)) | ment, dist = "poisson")
# kind "coef": coefficients, term "count_<name>" / "zero_<name>" as pscl
# names them ("(Intercept)", "fem", ...); "se": sqrt(diag(vcov)) (pscl: the
# inverse of optim's numerical Hessian at convergence, so about 1e-5
# relative accuracy); "theta": negbin size, and "se_logtheta" its log's SE;
# "coef_exact": pscl's estimates polished by three Newton steps on the
# log-likelihood written out below (independently of pscl; numDeriv's
# Richardson-extrapolated gradient and Hessian), in pscl's parameters plus
# log(theta) for negbin ("logtheta"); "se_exact": sqrt(diag) of the inverse of
# that Hessian there; "stat" "logLik_exact": the log-likelihood there;
# "stat": logLik, df, nobs; "pred_response", "pred_zero", "pred_count":
# predict(type = "response" / "zero" / "count") for rows 1..5; "prob":
# predict(type = "prob") for row 1, counts 0..4 (term "p0".."p4").
# Every fit is refitted with reltol = 1e-14 from its converged values.
suppressMessages({library(pscl); library(numDeriv)})
data("bioChemists", package = "pscl")
d <- bioChemists
dir <- "tests/reference"
write.csv(data.frame(art = d$art, fem = as.integer(d$fem == "Women"),
                     mar = as.integer(d$mar == "Married"), kid5 = d$kid5, phd = d$phd,
                     ment = d$ment),
          file.path(dir, "count_models_data_biochemists.csv"), row.names = FALSE)
d$fem <- as.integer(d$fem == "Women"); d$mar <- as.integer(d$mar == "Married")
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
ctl <- function(...) list(reltol = 1e-14, maxit = 1e4)
# log-likelihood of a fit's model at (count, zero, log theta), written out
loglik_fn <- function(fit) {
  X <- model.matrix(fit, model = "count"); Z <- model.matrix(fit, model = "zero")
  y <- fit$y; off <- if (is.null(fit$offset$count)) 0 else fit$offset$count
  kx <- ncol(X); kz <- ncol(Z)
  nb <- if (is.list(fit$dist)) fit$dist$count == "negbin" else fit$dist == "negbin"
  hurdle <- inherits(fit, "hurdle")
  function(par) {
    mu <- exp(drop(X %*% par[1:kx]) + off); g <- drop(Z %*% par[kx + 1:kz])
    if (nb) { th <- exp(par[kx + kz + 1]); lf <- dnbinom(y, size = th, mu = mu, log = TRUE)
              lf0 <- dnbinom(0, size = th, mu = mu, log = TRUE) }
    else { lf <- dpois(y, mu, log = TRUE); lf0 <- -mu }
    if (hurdle) {  # binomial hurdle for y > 0 (logit), truncated count for y > 0
      lp <- plogis(g, log.p = TRUE); lq <- plogis(-g, log.p = TRUE)
      sum(ifelse(y == 0, lq, lp + lf - log(-expm1(lf0))))
    } else {  # zero inflation probability plogis(g)
      lp <- plogis(g, log.p = TRUE); lq <- plogis(-g, log.p = TRUE)
      sum(ifelse(y == 0, log(exp(lp) + exp(lq + lf0)), lq + lf))
    }
  }
}
record <- function(name, fit) {
  cf <- coef(fit)
  add(name, "coef", names(cf), cf)
  add(name, "se", names(cf), sqrt(diag(vcov(fit))))
  par <- c(cf, if (!is.null(fit$theta)) log(fit$theta))
  f <- loglik_fn(fit)
  stopifnot(abs(f(par) - as.numeric(logLik(fit))) < 1e-8)
  # polish: three Newton steps with numDeriv's gradient and Hessian
  for (k in 1:3) par <- par - solve(hessian(f, par), grad(f, par))
  nm <- c(names(cf), if (!is.null(fit$theta)) "logtheta")
  add(name, "coef_exact", nm, par)
  add(name, "stat", "logLik_exact", f(par))
  se <- sqrt(diag(solve(-hessian(f, par))))
  add(name, "se_exact", nm, se)
  if (!is.null(fit$theta)) {
    add(name, "theta", "theta", fit$theta)
    add(name, "se_logtheta", "theta", fit$SE.logtheta)
  }
  ll <- logLik(fit)
  add(name, "stat", c("logLik", "df", "nobs"), c(as.numeric(ll), attr(ll, "df"), fit$n))
  nd <- d[1:5, ]
  add(name, "pred_response", 1:5, predict(fit, nd, type = "response"))
  add(name, "pred_zero", 1:5, predict(fit, nd, type = "zero"))
  add(name, "pred_count", 1:5, predict(fit, nd, type = "count"))
  add(name, "prob", paste0("p", 0:4), predict(fit, nd[1, ], type = "prob", at = 0:4))
  cat(sprintf("%-8s logLik %.10f conv %d\n", name, as.numeric(ll), fit$converged))
}
refit <- function(fun, formula, ...) {
  f <- fun(formula, data = d, ...)
  st <- list(count = f$coefficients$count, zero = f$coefficients$zero)
  if (!is.null(f$theta)) st$theta <- f$theta
  fun(formula, data = d, ..., start = st,
      control = if (identical(fun, zeroinfl)) zeroinfl.control(reltol = 1e-14, maxit = 1e4)
                else hurdle.control(reltol = 1e-14, maxit = 1e4))
}
record("zip_full", refit(zeroinfl, art ~ fem + mar + kid5 + phd + ment, dist = "poisson"))
record("zinb", refit(zeroinfl, art ~ fem + mar + kid5 + phd + ment | ment, dist = "negbin"))
record("hp", refit(hurdle, art ~ fem + mar + kid5 + phd + ment | ment, dist = "poisson"))
record("hnb", refit(hurdle, art ~ fem + mar + kid5 + phd + ment, dist = "negbin"))
record("zip_off", refit(zeroinfl, art ~ fem + ment + offset(log(phd)) | ment, dist = "poisson"))
write.csv(do.call(rbind, out), file.path(dir, "count_models_results.csv"), row.names = FALSE)
