# Reference values for the generalized gamma and gamma accelerated-failure-time
# models (R 4.2, numDeriv). flexsurv is not packaged for this platform, so the
# log-likelihood is written here from Prentice (1974) in flexsurv's
# parametrisation (mu = x'beta, sigma, Q), with R's dgamma/pgamma:
#   w = (log t - mu) / sigma, a = Q^-2, u = a exp(Q w)
#   log f(t) = log|Q| + a log a - lgamma(a) + a (Q w - exp(Q w)) - log sigma - log t
#   S(t) = 1 - P(a, u) for Q > 0, P(a, u) for Q < 0
# and the gamma model is Q = sigma. Maximized by optim (BFGS) from the
# log-normal fit, then Newton steps on numDeriv's Richardson gradient and
# Hessian until the step is below 1e-12; standard errors from the inverse of
# numDeriv's Hessian at the estimate (parameters beta, log(sigma), Q).
# Run from the repository root:  Rscript tests/reference/gengamma.R
# Reads survreg_data_lung.csv and survreg_data_lung_interval.csv (written by survreg.R); writes
# tests/reference/gengamma_results.csv with columns model, kind, term, value:
#   lung_gengamma       Surv(time, status) ~ age + sex + ph.ecog, generalized gamma
#   lung_gamma          the same, gamma (Q = sigma)
#   interval_gengamma   Surv(lower, upper, type = "interval2") ~ age + sex
# kinds: "coef" (beta by R's names), "scale", "shape" (Q), "se" (beta's, and
# "Log(scale)", "shape"), "stat" (logLik), "median" (rows 1..5).
suppressMessages(library(numDeriv))
dir <- "tests/reference"
rd <- function(name) read.csv(file.path(dir, paste0("survreg_data_", name, ".csv")))
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
log_cdf_sf <- function(w, Q) {  # log F and log S of the standard W
  a <- 1 / Q^2; u <- a * exp(Q * w)
  lo <- pgamma(u, a, log.p = TRUE); up <- pgamma(u, a, lower.tail = FALSE, log.p = TRUE)
  if (Q > 0) list(F = lo, S = up) else list(F = up, S = lo)
}
log_f <- function(w, Q) {
  a <- 1 / Q^2
  log(abs(Q)) + a * log(a) - lgamma(a) + a * (Q * w - exp(Q * w))
}
# lo, hi: bounds on the time scale; NA lo = left-censored, NA hi = right-censored
loglik <- function(theta, X, lo, hi, gamma) {
  k <- ncol(X); beta <- theta[1:k]; sigma <- exp(theta[k + 1])
  Q <- if (gamma) sigma else theta[k + 2]
  mu <- drop(X %*% beta)
  exact <- !is.na(lo) & !is.na(hi) & lo == hi
  right <- !is.na(lo) & is.na(hi)
  left <- is.na(lo) & !is.na(hi)
  inter <- !is.na(lo) & !is.na(hi) & lo < hi
  ll <- 0
  if (any(exact)) {
    w <- (log(lo[exact]) - mu[exact]) / sigma
    ll <- ll + sum(log_f(w, Q) - log(sigma) - log(lo[exact]))
  }
  if (any(right)) ll <- ll + sum(log_cdf_sf((log(lo[right]) - mu[right]) / sigma, Q)$S)
  if (any(left)) ll <- ll + sum(log_cdf_sf((log(hi[left]) - mu[left]) / sigma, Q)$F)
  if (any(inter)) {
    Fa <- exp(log_cdf_sf((log(lo[inter]) - mu[inter]) / sigma, Q)$F)
    Fb <- exp(log_cdf_sf((log(hi[inter]) - mu[inter]) / sigma, Q)$F)
    ll <- ll + sum(log(Fb - Fa))
  }
  ll
}
median_w <- function(Q) {  # the median of W
  a <- 1 / Q^2
  log(qgamma(0.5, a, lower.tail = Q > 0) / a) / Q
}
fit <- function(name, X, lo, hi, gamma, Q0) {
  # start: log-normal least squares on the observed bound, as the log-normal
  y <- log(ifelse(is.na(lo), hi, lo))
  b0 <- qr.solve(X, y)
  s0 <- sd(y - X %*% b0)
  th <- c(b0, log(s0), if (!gamma) Q0)
  f <- function(t) -loglik(t, X, lo, hi, gamma)
  for (i in 1:3) th <- optim(th, f, method = "BFGS", control = list(reltol = 1e-15, maxit = 5000))$par
  for (i in 1:50) {
    g <- grad(f, th); H <- hessian(f, th)
    step <- solve(H, g); th <- th - step
    if (max(abs(step)) < 1e-12) break
  }
  H <- hessian(f, th); V <- solve(H)
  k <- ncol(X)
  add(name, "coef", colnames(X), th[1:k])
  add(name, "scale", "scale", exp(th[k + 1]))
  if (!gamma) add(name, "shape", "shape", th[k + 2])
  add(name, "se", c(colnames(X), "Log(scale)", if (!gamma) "shape"), sqrt(diag(V)))
  add(name, "stat", "logLik", -f(th))
  Q <- if (gamma) exp(th[k + 1]) else th[k + 2]
  add(name, "median", 1:5, exp(drop(X[1:5, ] %*% th[1:k]) + exp(th[k + 1]) * median_w(Q)))
  cat(sprintf("%-18s logLik %.10f  Q %.6f  |grad| %.2e\n", name, -f(th), Q, max(abs(grad(f, th)))))
}
lung <- rd("lung")
Xl <- model.matrix(~ age + sex + ph.ecog, lung)
tl <- as.numeric(lung$time)
fit("lung_gengamma", Xl, tl, ifelse(lung$status == 2, tl, NA), FALSE, 1)
fit("lung_gamma", Xl, tl, ifelse(lung$status == 2, tl, NA), TRUE, NA)
li <- rd("lung_interval")
Xi <- model.matrix(~ age + sex, li)
fit("interval_gengamma", Xi, li$lower, li$upper, FALSE, 1)
write.csv(do.call(rbind, out), file.path(dir, "gengamma_results.csv"), row.names = FALSE)
