# Reference values for latent processes integrated out by a Laplace
# approximation (likelihax.integrate): an AR(1) latent series under Poisson and
# Gaussian observations (glmmTMB), and a Gaussian Markov random field (proper
# CAR) on a 12 x 12 lattice under Poisson and Gaussian observations
# (independent dense R code: the textbook Laplace approximation, and the exact
# multivariate-normal likelihood).
# Run from the repository root:  Rscript tests/reference/latent_processes.R
# (R 4.2, glmmTMB 1.1.5, TMB 1.9.2, numDeriv, mvtnorm; about 15 seconds.)
# Writes the simulated data to tests/reference/latent_processes_data_<name>.csv
# and one long table tests/reference/latent_processes_results.csv with columns
#   model, software, kind, term, value
# Data (set.seed(20240), drawn in the order ar1_pois, ar1_gauss, gmrf):
#   ar1_pois   columns time (1..200), y. u_1 ~ N(0, sd^2 / (1 - rho^2)),
#              u_t = rho u_{t-1} + N(0, sd^2), y_t ~ Poisson(exp(mu + u_t)),
#              mu = 1, rho = 0.7, sd = 0.4 (the innovation SD).
#   ar1_gauss  columns time (1..300), y. The same stationary AR(1) with
#              rho = 0.7, sd = 0.5, then y_t = 2 + u_t + N(0, 0.5^2).
#   gmrf       columns site (1..144), row, col (1..12; site = (row-1)*12 + col),
#              count, yg. u ~ N(0, Q^-1), Q = tau (D - rho W), W the rook
#              adjacency of the lattice (sites sharing an edge), D = diag(number
#              of neighbours), tau = 2, rho = 0.9 (u = solve(chol(Q), z));
#              count_i ~ Poisson(exp(1 + u_i)), then yg_i = 1 + u_i + N(0, 0.5^2).
# Models (the latent vector is u in every model):
#   ar1_pois   glmmTMB  y ~ 1 + ar1(time + 0 | group), poisson; time a factor
#              with one level per time point, group a single level.
#   ar1_gauss  glmmTMB  y ~ 1 + ar1(time + 0 | group), gaussian (exact: the
#              Laplace approximation of a linear Gaussian model is exact).
#              Software "R": logLik_exact, the multivariate-normal
#              log-likelihood of y (covariance sd_u^2 rho^|s-t| + sigma^2 I)
#              at glmmTMB's estimates.
#   gmrf_pois  software "R": count ~ Poisson(exp(mu + u)), u ~ N(0, Q^-1),
#              Q = tau (D - rho W); the Laplace log-likelihood computed densely
#              (inner Newton to a step < 1e-13, log det by Cholesky), maximised
#              over (mu, log tau, atanh rho) by nlminb with numDeriv (Richardson)
#              gradients, then three Newton steps with numDeriv's Hessian
#              (final max|gradient| printed, < 1e-8). The same Laplace code at
#              the ar1_pois glmmTMB estimates (AR(1) precision) is stored as
#              ar1_pois / R / stat / logLik_laplace and agrees with glmmTMB's
#              logLik to 5e-13 relative, a check of this code.
#   gmrf_gauss software "R": yg ~ N(mu 1, Q^-1 + sigma^2 I), the exact
#              marginal (mvtnorm::dmvnorm), maximised by optim BFGS (reltol
#              1e-14, numDeriv gradients) over (mu, log tau, atanh rho,
#              log sigma), then three Newton steps as above.
#   glmmTMB has no CAR structure with an estimated rho, hence the R code for
#   the lattice models.
# kind "fixef", term "(Intercept)": mu; "se": its standard error. glmmTMB:
#   sqrt(diag(vcov(fit))), from the inverse Hessian of the Laplace marginal in
#   glmmTMB's parameters; R: the inverse of numDeriv's Hessian of the marginal
#   in the parameters listed above (the mu block is the same in any smooth
#   parametrisation of the others at the optimum).
# "ar1": term "sd", the MARGINAL SD of u as glmmTMB's VarCorr reports it (the
#   innovation SD is sd * sqrt(1 - rho^2)), and term "rho", the lag-one
#   correlation. "car": terms "tau", "rho" (precision tau (D - rho W)).
#   "sigma": residual SD (Gaussian models).
# "stat": logLik (the Laplace, or exact, marginal log-likelihood with the
#   full Poisson / normal densities), deviance (-2 logLik), df, nobs;
#   max_abs_grad (the final gradient, on the optimiser's scale).
# "ranef": conditional modes of u, term "time<t>" (t = 1..T) or "site<i>"
#   (i = 1..144). "ranef_se_cond": their conditional SDs given the parameters,
#   sqrt(diag(A^-1)), A the negative latent Hessian at the mode (glmmTMB:
#   sdreport(..., ignore.parm.uncertainty = TRUE); R: computed directly).
#   "ranef_se" (glmmTMB only): ranef(fit, condVar = TRUE)'s condsd, which
#   also carries the uncertainty of the estimated parameters (TMB's sdreport
#   adds the delta-method term), so it exceeds ranef_se_cond.
# glmmTMB is fitted by nlminb (eval.max = iter.max = 1e4), polished with three
#   Newton steps on TMB's exact gradient and refitted from there (as in
#   mixed_terms.R); the final max|gradient| is < 1e-8.
# Numbers with 15 significant digits (sprintf("%.15g")).
suppressMessages({library(glmmTMB); library(numDeriv); library(mvtnorm)})
dir <- "tests/reference"
out <- list()
add <- function(model, software, kind, term, value) {
  if (length(value) == 0) return(invisible())
  out[[length(out) + 1]] <<- data.frame(model = model, software = software,
    kind = kind, term = term, value = sprintf("%.15g", value))
}
save_data <- function(d, name) {
  write.csv(d, file.path(dir, paste0("latent_processes_data_", name, ".csv")),
            row.names = FALSE)
}
tctl <- glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4))
tmb <- function(...) {
  f <- glmmTMB(..., control = tctl)
  p <- f$fit$par
  for (k in 1:3) p <- p - solve(optimHess(p, f$obj$fn, f$obj$gr), as.numeric(f$obj$gr(p)))
  st <- f$obj$env$parList(p)
  glmmTMB(..., control = tctl, start = st[names(st) != "b"])
}

# ----- simulation -----------------------------------------------------------------
set.seed(20240)
ar1_sim <- function(T, rho, sd) {
  u <- numeric(T)
  u[1] <- rnorm(1, 0, sd / sqrt(1 - rho^2))
  for (t in 2:T) u[t] <- rho * u[t - 1] + rnorm(1, 0, sd)
  u
}
u <- ar1_sim(200, 0.7, 0.4)
ar1_pois <- data.frame(time = 1:200, y = rpois(200, exp(1 + u)))
u <- ar1_sim(300, 0.7, 0.5)
ar1_gauss <- data.frame(time = 1:300, y = 2 + u + rnorm(300, 0, 0.5))
n_side <- 12
grid <- expand.grid(col = 1:n_side, row = 1:n_side)[, c("row", "col")]
n_site <- nrow(grid)
W <- outer(1:n_site, 1:n_site, function(i, j)
  as.numeric(abs(grid$row[i] - grid$row[j]) + abs(grid$col[i] - grid$col[j]) == 1))
D <- diag(rowSums(W))
car_Q <- function(tau, rho) tau * (D - rho * W)
u <- as.numeric(backsolve(chol(car_Q(2, 0.9)), rnorm(n_site)))
gmrf <- data.frame(site = 1:n_site, row = grid$row, col = grid$col,
                   count = rpois(n_site, exp(1 + u)))
gmrf$yg <- 1 + u + rnorm(n_site, 0, 0.5)
save_data(ar1_pois, "ar1_pois"); save_data(ar1_gauss, "ar1_gauss"); save_data(gmrf, "gmrf")

# ----- glmmTMB: AR(1) ---------------------------------------------------------------
add_tmb <- function(model, fit) {
  sw <- "glmmTMB"
  fe <- fixef(fit)$cond; se <- sqrt(diag(vcov(fit)$cond))
  add(model, sw, "fixef", names(fe), fe)
  add(model, sw, "se", names(fe), se)
  v <- VarCorr(fit)$cond$group
  add(model, sw, "ar1", c("sd", "rho"), c(attr(v, "stddev")[[1]], attr(v, "correlation")[1, 2]))
  if (family(fit)$family == "gaussian") add(model, sw, "sigma", "sigma", sigma(fit))
  ll <- logLik(fit)
  gr <- fit$obj$gr(fit$fit$par)
  add(model, sw, "stat", c("logLik", "deviance", "df", "nobs", "max_abs_grad"),
      c(as.numeric(ll), -2 * as.numeric(ll), attr(ll, "df"), nobs(fit), max(abs(gr))))
  r <- as.data.frame(ranef(fit, condVar = TRUE))
  add(model, sw, "ranef", as.character(r$term), r$condval)
  add(model, sw, "ranef_se", as.character(r$term), r$condsd)
  sdr <- TMB::sdreport(fit$obj, par.fixed = fit$fit$par, ignore.parm.uncertainty = TRUE)
  add(model, sw, "ranef_se_cond", as.character(r$term), sqrt(sdr$diag.cov.random))
  cat(sprintf("%-10s %-7s logLik %.12f  max|grad| %s  conv %d %s pdHess %s\n", model, sw,
              as.numeric(ll), format(max(abs(gr))), fit$fit$convergence, fit$fit$message,
              fit$sdr$pdHess))
}
tm_ar1 <- function(d, family) {
  d$time <- factor(d$time, levels = seq_len(nrow(d)))
  d$group <- factor(rep(1, nrow(d)))
  tmb(y ~ 1 + ar1(time + 0 | group), data = d, family = family)
}
f_pois <- tm_ar1(ar1_pois, poisson)
add_tmb("ar1_pois", f_pois)
f_gauss <- tm_ar1(ar1_gauss, gaussian)
add_tmb("ar1_gauss", f_gauss)

ar1_par <- function(fit) {
  v <- VarCorr(fit)$cond$group
  list(mu = fixef(fit)$cond[[1]], sd = attr(v, "stddev")[[1]],
       rho = attr(v, "correlation")[1, 2])
}
# The exact Gaussian likelihood at glmmTMB's estimates.
p <- ar1_par(f_gauss)
Tg <- nrow(ar1_gauss)
V <- p$sd^2 * p$rho^abs(outer(1:Tg, 1:Tg, "-")) + sigma(f_gauss)^2 * diag(Tg)
add("ar1_gauss", "R", "stat", "logLik_exact",
    dmvnorm(ar1_gauss$y, rep(p$mu, Tg), V, log = TRUE))

# ----- the textbook Laplace approximation, dense ------------------------------------
logdet <- function(M) 2 * sum(log(diag(chol(M))))
# Poisson counts y, log-mean mu + u, u ~ N(0, Q^-1): the Laplace marginal,
# the mode and the conditional covariance A^-1.
laplace_pois <- function(y, mu, Q) {
  n <- length(y)
  h <- function(u) sum(dpois(y, exp(mu + u), log = TRUE)) - 0.5 * sum(u * (Q %*% u))
  u <- numeric(n); hu <- h(u)
  for (it in 1:200) {
    A <- Q + diag(exp(mu + u))
    step <- as.numeric(solve(A, y - exp(mu + u) - as.numeric(Q %*% u)))
    t <- 1
    while (h(u + t * step) < hu - 1e-12 * abs(hu) && t > 1e-8) t <- t / 2
    u <- u + t * step; hu <- h(u)
    if (max(abs(t * step)) < 1e-13) break
  }
  A <- Q + diag(exp(mu + u))
  list(loglik = hu + 0.5 * logdet(Q) - 0.5 * logdet(A), mode = u, cov = solve(A))
}
ar1_Q <- function(T, sd, rho) {  # sd: marginal SD
  Q <- diag(c(1, rep(1 + rho^2, T - 2), 1))
  Q[cbind(1:(T - 1), 2:T)] <- Q[cbind(2:T, 1:(T - 1))] <- -rho
  Q / (sd^2 * (1 - rho^2))
}
p <- ar1_par(f_pois)
chk <- laplace_pois(ar1_pois$y, p$mu, ar1_Q(nrow(ar1_pois), p$sd, p$rho))
add("ar1_pois", "R", "stat", "logLik_laplace", chk$loglik)
cat(sprintf("ar1_pois   R Laplace at glmmTMB's estimates: %.12f (glmmTMB - R = %.3g)\n",
            chk$loglik, as.numeric(logLik(f_pois)) - chk$loglik))

# Maximise f(theta) (a log-likelihood), then three Newton steps with numDeriv.
polish <- function(theta, f) {
  for (k in 1:3) theta <- theta - solve(hessian(f, theta), grad(f, theta))
  H <- hessian(f, theta)
  list(par = theta, loglik = f(theta), cov = solve(-H), grad = grad(f, theta))
}
add_r <- function(model, fit, tau, rho, sigma, mode, cov, nobs) {
  sw <- "R"
  add(model, sw, "fixef", "(Intercept)", fit$par[1])
  add(model, sw, "se", "(Intercept)", sqrt(fit$cov[1, 1]))
  add(model, sw, "car", c("tau", "rho"), c(tau, rho))
  if (!is.null(sigma)) add(model, sw, "sigma", "sigma", sigma)
  add(model, sw, "stat", c("logLik", "deviance", "df", "nobs", "max_abs_grad"),
      c(fit$loglik, -2 * fit$loglik, length(fit$par), nobs, max(abs(fit$grad))))
  add(model, sw, "ranef", paste0("site", seq_along(mode)), mode)
  add(model, sw, "ranef_se_cond", paste0("site", seq_along(mode)), sqrt(diag(cov)))
  cat(sprintf("%-10s %-7s logLik %.12f  max|grad| %s\n", model, sw, fit$loglik,
              format(max(abs(fit$grad)))))
}

# ----- GMRF, Poisson: Laplace ---------------------------------------------------------
f_gp <- function(th) laplace_pois(gmrf$count, th[1], car_Q(exp(th[2]), tanh(th[3])))$loglik
o <- nlminb(c(mean(log(gmrf$count + 0.5)), 0, 1), function(th) -f_gp(th),
            function(th) -grad(f_gp, th), control = list(eval.max = 1e4, iter.max = 1e4))
fit <- polish(o$par, f_gp)
th <- fit$par
lap <- laplace_pois(gmrf$count, th[1], car_Q(exp(th[2]), tanh(th[3])))
add_r("gmrf_pois", fit, exp(th[2]), tanh(th[3]), NULL, lap$mode, lap$cov, n_site)

# ----- GMRF, Gaussian: exact ----------------------------------------------------------
f_gg <- function(th) {
  V <- solve(car_Q(exp(th[2]), tanh(th[3]))) + exp(2 * th[4]) * diag(n_site)
  dmvnorm(gmrf$yg, rep(th[1], n_site), V, log = TRUE)
}
o <- optim(c(mean(gmrf$yg), 0, 1, log(sd(gmrf$yg) / 2)), function(th) -f_gg(th),
           function(th) -grad(f_gg, th), method = "BFGS",
           control = list(reltol = 1e-14, maxit = 1e4))
fit <- polish(o$par, f_gg)
th <- fit$par
Q <- car_Q(exp(th[2]), tanh(th[3]))
A <- Q + diag(n_site) / exp(2 * th[4])
Ainv <- solve(A)
mode <- as.numeric(Ainv %*% ((gmrf$yg - th[1]) / exp(2 * th[4])))
add_r("gmrf_gauss", fit, exp(th[2]), tanh(th[3]), exp(th[4]), mode, Ainv, n_site)

res <- do.call(rbind, out)
write.csv(res, file.path(dir, "latent_processes_results.csv"), row.names = FALSE, quote = TRUE)
cat("glmmTMB", as.character(packageVersion("glmmTMB")), "TMB",
    as.character(packageVersion("TMB")), R.version.string, "\n")
