# Reference values for likelihax mixed models with several random-effect terms
# (crossed, nested, uncorrelated), REML, and adaptive Gauss-Hermite quadrature:
# lme4 (lmer / glmer / glmer.nb) and glmmTMB.
# Run from the repository root:  Rscript tests/reference/mixed_terms.R
# (R 4.2, lme4 1.1-31, glmmTMB 1.1.5; InstEval takes about a minute.)
# Writes the data sets to tests/reference/mixed_terms_data_<name>.csv and one
# long table tests/reference/mixed_terms_results.csv with columns
#   model, software, kind, term, value
# Models ("_reml" / "_ml" says the criterion; software "lme4" or "glmmTMB"):
#   sleepstudy_reml       Reaction ~ Days + (Days | Subject), REML
#   sleepstudy_diag_reml  Reaction ~ Days + (Days || Subject), REML
#   sleepstudy_diag_ml    same, ML (glmmTMB: diag(Days | Subject))
#   penicillin_reml/_ml   diameter ~ 1 + (1 | plate) + (1 | sample)   (crossed)
#   pastes_reml/_ml       strength ~ 1 + (1 | batch/cask)             (nested;
#                         the inner term is "cask:batch", levels "<cask>:<batch>")
#   cbpp_agq1, cbpp_agq25 cbind(incidence, size - incidence) ~ period + (1 | herd),
#                         binomial, glmer nAGQ = 1 (Laplace) and nAGQ = 25 (adaptive
#                         Gauss-Hermite); glmmTMB (Laplace) under cbpp_agq1. The
#                         data file writes period as 1..4: treat it as a factor
#                         (reference level 1, fixed effects period2..period4)
#   salamanders_nb2       count ~ mined + (1 | site), negative binomial "NB2"
#                         (variance mu + mu^2/theta), ML: glmmTMB nbinom2 and
#                         lme4 glmer.nb; mined has levels c("yes", "no") so the
#                         fixed effect is "minedno" (reference level "yes")
#   crossed_pois          y ~ x + (1 | a) + (1 | b), Poisson, Laplace: glmer and
#                         glmmTMB; simulated below (set.seed(1); fully crossed
#                         100 x 40 = 4000 cells, one observation per cell; draws
#                         in the order x, u_a ~ N(0, 0.5^2), u_b ~ N(0, 0.3^2), y;
#                         true beta = (0.5, 0.3)); levels "a001".."a100",
#                         "b01".."b40"
#   insteval_reml         y ~ service + (1 | s) + (1 | d) + (1 | dept), REML
#                         (lmer only; no ranef rows). Its data CSV (columns y,
#                         service, s, d, dept as integer codes = R's labels) is
#                         written only when the whole file is < 3 MB; if
#                         mixed_terms_data_insteval.csv is absent, a Python test
#                         has no R-less source for it and must skip.
# kind "fixef": fixed-effect estimates; "se": their standard errors
#   sqrt(diag(vcov(fit))). lmer: sigma^2 (RX'RX)^-1, i.e. conditional on the
#   variance parameters (also for REML fits). glmer: the beta block of the
#   inverse of lme4's *finite-difference* Hessian of the deviance in
#   (theta, beta) (use.hessian = TRUE), so only ~1e-5 relative accuracy;
#   glmmTMB: sdreport, the beta block of the inverse of the joint Hessian
#   (for REML, beta is integrated out with the random effects).
# "sd": random-effect SDs, term "<group>:<coef>", e.g. "plate:(Intercept)",
#   "Subject:Days", "cask:batch:(Intercept)"; "cor": correlations, term
#   "<group>:<coef1>,<coef2>"; "sigma": residual SD (Gaussian only);
# "disp": negative-binomial size parameter, term "theta".
# "stat": logLik (for REML fits the REML log-likelihood), deviance
#   (= -2 * logLik, i.e. the minimised criterion; for REML fits it equals
#   REMLcrit), REMLcrit (REML fits: lme4 REMLcrit(fit); glmmTMB -2*logLik),
#   deviance_ML (lmer REML fits: deviance(fit, REML = FALSE), -2 * the ML
#   log-likelihood evaluated at the REML estimates), cond_deviance (glmer:
#   deviance(fit) = sum of squared deviance residuals, NOT -2*logLik), AIC, BIC
#   (computed from logLik, also for REML fits), df (number of parameters),
#   nobs, "ngroups:<group>", singular (lme4 isSingular, 1/0), nAGQ (glmer).
# "ranef": conditional modes, "ranef_se": their conditional SDs (condVar),
#   term "<group>:<level>:<coef>". lme4 condVar is conditional on beta (and
#   on theta); glmmTMB REML condsd also includes the uncertainty of beta
#   (beta is a random effect there), so they differ for REML fits.
#   cbpp only: deviance_integrate / deviance_laplace, computed in this script
#   independently of lme4/glmmTMB at that fit's estimates (per-herd
#   integrate() with rel.tol 1e-13, and the textbook Laplace with the observed
#   Hessian at the Newton mode), full binomial density; logLik_full /
#   deviance_full (nAGQ = 25): lme4's values with the saturated log-likelihood
#   added back (see the caveats).
# "time": term "lmer_elapsed_s", elapsed seconds of the InstEval lmer fit
#   (system.time; machine dependent, informational only).
# Optimiser controls: lmer nloptwrap (BOBYQA) with xtol_abs = 1e-12,
#   ftol_abs = 1e-14, xtol_rel = 1e-12; glmer (and glmer.nb) bobyqa with
#   rhoend = 1e-10, maxfun = 1e5 (default tolPwrss; for crossed_pois
#   tolPwrss 1e-10 or 1e-12 changes the criterion by < 1e-8); glmmTMB
#   nlminb (eval.max = iter.max = 1e4, default rel.tol 1e-10), then three
#   Newton steps on the outer parameters with TMB's exact gradient and a refit
#   started there (final max|gradient| < 1e-11; a tighter nlminb rel.tol only
#   gives "singular convergence"). lmer and glmmTMB agree on every LMM
#   criterion to ~1e-12; InstEval's REML criterion agrees with a bobyqa
#   (rhoend 1e-12) refit to 2e-9, its SDs to ~1e-5 relative (flat in dept).
# Caveats (checked while writing this script):
# * glmer's SEs come from its finite-difference Hessian (see "se").
# * lme4's Laplace criterion is not exactly the textbook Laplace
#   approximation (lme4 issue #289): at identical parameters glmer's deviance
#   exceeds it by ~5.8e-4 for cbpp and ~8.1e-6 for crossed_pois; glmmTMB and
#   deviance_laplace (independent R code) agree to ~1e-10. Compare an exact
#   Laplace with glmmTMB (criterion ~1e-8) and with glmer only loosely.
# * glmer with nAGQ > 1 reports logLik/deviance/AIC/BIC without the
#   saturated-model log-likelihood (lme4 issue #567): for cbpp_agq25 they are
#   83.9567 (deviance) below the full value; use deviance_full /
#   deviance_integrate (these agree to ~1e-10). Its estimates do maximise the
#   full marginal likelihood.
# * glmer.nb (salamanders_nb2, lme4): its deviance is ~0.1 below glmmTMB's,
#   yet glmmTMB's Laplace at glmer.nb's estimates is ~0.12 above glmer.nb's
#   value: a different approximation, not a better fit (presumably lme4's
#   PIRLS working weights, i.e. expected rather than observed information for
#   the non-canonical NB log link, plus the outer loop over theta).
# Numbers with 15 significant digits (sprintf("%.15g")).
suppressMessages({library(lme4); library(glmmTMB)})
dir <- "tests/reference"
out <- list()
add <- function(model, software, kind, term, value) {
  if (length(value) == 0) return(invisible())
  out[[length(out) + 1]] <<- data.frame(model = model, software = software,
    kind = kind, term = term, value = sprintf("%.15g", value))
}
save_data <- function(d, name) {
  write.csv(d, file.path(dir, paste0("mixed_terms_data_", name, ".csv")),
            row.names = FALSE)
}
ctl <- lmerControl(optimizer = "nloptwrap",
                   optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12))
gctl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
tctl <- glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4))
# glmmTMB: fit, polish the outer parameters with three Newton steps
# (optimHess of TMB's exact gradient), refit from there so that every
# glmmTMB output (sdreport, ranef) is at the polished optimum.
tmb <- function(...) {
  f <- glmmTMB(..., control = tctl)
  p <- f$fit$par
  for (k in 1:3) p <- p - solve(optimHess(p, f$obj$fn, f$obj$gr), as.numeric(f$obj$gr(p)))
  st <- f$obj$env$parList(p)
  glmmTMB(..., control = tctl, start = st[names(st) != "b"])
}
strip <- function(g) sub("\\.[0-9]+$", "", g)  # "Subject.1" (from ||) -> "Subject"

add_ranef_df <- function(model, software, r) {
  term <- paste(r$grpvar, r$grp, r$term, sep = ":")
  add(model, software, "ranef", term, r$condval)
  add(model, software, "ranef_se", term, r$condsd)
}

add_merMod <- function(model, fit, software = "lme4", ranefs = TRUE) {
  fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
  add(model, software, "fixef", names(fe), fe)
  add(model, software, "se", names(fe), se)
  vc <- as.data.frame(VarCorr(fit))
  for (i in seq_len(nrow(vc))) {
    g <- strip(vc$grp[i])
    if (g == "Residual") add(model, software, "sigma", "sigma", vc$sdcor[i])
    else if (is.na(vc$var2[i])) add(model, software, "sd", paste(g, vc$var1[i], sep = ":"), vc$sdcor[i])
    else add(model, software, "cor", paste0(g, ":", vc$var1[i], ",", vc$var2[i]), vc$sdcor[i])
  }
  ll <- logLik(fit); reml <- isREML(fit)
  add(model, software, "stat", c("logLik", "deviance", "AIC", "BIC", "df", "nobs"),
      c(as.numeric(ll), -2 * as.numeric(ll), AIC(fit), BIC(fit), attr(ll, "df"), nobs(fit)))
  if (reml) {
    add(model, software, "stat", c("REMLcrit", "deviance_ML"),
        c(REMLcrit(fit), deviance(fit, REML = FALSE)))
  }
  if (isGLMM(fit)) {
    add(model, software, "stat", c("cond_deviance", "nAGQ"),
        c(deviance(fit), fit@devcomp$dims[["nAGQ"]]))
  }
  ng <- ngrps(fit)
  add(model, software, "stat", paste0("ngroups:", names(ng)), ng)
  add(model, software, "stat", "singular", as.numeric(isSingular(fit)))
  if (ranefs) add_ranef_df(model, software, as.data.frame(ranef(fit, condVar = TRUE)))
  g <- fit@optinfo$derivs$gradient
  cat(sprintf("%-22s %-7s crit %.12f  max|grad| %s  conv msgs: %s\n", model, software,
              -2 * as.numeric(ll), if (is.null(g)) "NA" else format(max(abs(g))),
              paste(c(fit@optinfo$conv$lme4$messages, fit@optinfo$warnings), collapse = "; ")))
}

add_tmb <- function(model, fit, ranefs = TRUE) {
  sw <- "glmmTMB"
  fe <- fixef(fit)$cond; se <- sqrt(diag(vcov(fit)$cond))
  add(model, sw, "fixef", names(fe), fe)
  add(model, sw, "se", names(fe), se)
  vcl <- VarCorr(fit)$cond
  for (g in names(vcl)) {
    v <- vcl[[g]]; sds <- attr(v, "stddev"); gn <- strip(g)
    add(model, sw, "sd", paste(gn, names(sds), sep = ":"), sds)
    cr <- attr(v, "correlation")
    if (length(sds) > 1 && names(attr(v, "blockCode")) %in% c("us", "cs")) {
      for (j in 2:length(sds)) for (i in 1:(j - 1))
        add(model, sw, "cor", paste0(gn, ":", names(sds)[i], ",", names(sds)[j]), cr[i, j])
    }
  }
  fam <- family(fit)$family
  if (fam == "gaussian") add(model, sw, "sigma", "sigma", sigma(fit))
  if (grepl("nbinom2", fam)) add(model, sw, "disp", "theta", sigma(fit))
  ll <- logLik(fit)
  add(model, sw, "stat", c("logLik", "deviance", "AIC", "BIC", "df", "nobs"),
      c(as.numeric(ll), -2 * as.numeric(ll), AIC(fit), BIC(fit), attr(ll, "df"), nobs(fit)))
  if (isTRUE(fit$modelInfo$REML)) add(model, sw, "stat", "REMLcrit", -2 * as.numeric(ll))
  ng <- fit$modelInfo$reTrms$cond$flist
  add(model, sw, "stat", paste0("ngroups:", names(ng)), sapply(ng, nlevels))
  if (ranefs) add_ranef_df(model, sw, as.data.frame(ranef(fit, condVar = TRUE)))
  gr <- fit$obj$gr(fit$fit$par)
  cat(sprintf("%-22s %-7s crit %.12f  max|grad| %s  conv %d %s pdHess %s\n", model, sw,
              -2 * as.numeric(ll), format(max(abs(gr))), fit$fit$convergence,
              fit$fit$message, fit$sdr$pdHess))
}

# 1. sleepstudy: correlated (REML) and uncorrelated (REML, ML) intercept/slope
data(sleepstudy, package = "lme4")
save_data(sleepstudy, "sleepstudy")
m <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE, control = ctl)
add_merMod("sleepstudy_reml", m)
t <- tmb(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)
add_tmb("sleepstudy_reml", t)
for (reml in c(TRUE, FALSE)) {
  nm <- if (reml) "sleepstudy_diag_reml" else "sleepstudy_diag_ml"
  m <- lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = reml, control = ctl)
  add_merMod(nm, m)
  t <- tmb(Reaction ~ Days + diag(Days | Subject), sleepstudy, REML = reml)
  add_tmb(nm, t)
}

# 2. Penicillin: crossed random intercepts
data(Penicillin, package = "lme4")
pen <- data.frame(diameter = Penicillin$diameter, plate = as.character(Penicillin$plate),
                  sample = as.character(Penicillin$sample))
save_data(pen, "penicillin")
for (reml in c(TRUE, FALSE)) {
  nm <- if (reml) "penicillin_reml" else "penicillin_ml"
  add_merMod(nm, lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen, REML = reml, control = ctl))
  add_tmb(nm, tmb(diameter ~ 1 + (1 | plate) + (1 | sample), pen, REML = reml))
}

# 3. Pastes: nested random intercepts, batch and cask within batch
data(Pastes, package = "lme4")
pas <- data.frame(strength = Pastes$strength, batch = as.character(Pastes$batch),
                  cask = as.character(Pastes$cask))
save_data(pas, "pastes")
for (reml in c(TRUE, FALSE)) {
  nm <- if (reml) "pastes_reml" else "pastes_ml"
  add_merMod(nm, lmer(strength ~ 1 + (1 | batch/cask), pas, REML = reml, control = ctl))
  add_tmb(nm, tmb(strength ~ 1 + (1 | batch/cask), pas, REML = reml))
}

# 4. cbpp: binomial GLMM, Laplace and 25-point adaptive Gauss-Hermite
data(cbpp, package = "lme4")
cb <- data.frame(herd = as.character(cbpp$herd), incidence = cbpp$incidence,
                 size = cbpp$size, period = as.character(cbpp$period))
save_data(cb, "cbpp")
# Independent check at a fit's estimates, per herd: the marginal deviance by
# integrate() and the textbook Laplace approximation (Newton mode, observed
# Hessian), both with the full binomial density (choose() constant included).
cbpp_dev <- function(b, s) {
  e <- as.numeric(model.matrix(~ period, cb) %*% b); out <- c(0, 0)
  for (lv in unique(cb$herd)) {
    i <- which(cb$herd == lv); y <- cb$incidence[i]; n <- cb$size[i]
    f <- function(u) sum(dbinom(y, n, plogis(e[i] + u), log = TRUE)) + dnorm(u, 0, s, log = TRUE)
    u <- optimize(function(u) -f(u), c(-10, 10), tol = 1e-12)$minimum
    for (k in 1:5) {
      p <- plogis(e[i] + u)
      u <- u + (sum(y - n * p) - u / s^2) / (sum(n * p * (1 - p)) + 1 / s^2)
    }
    p <- plogis(e[i] + u); h <- sum(n * p * (1 - p)) + 1 / s^2
    m <- f(u)  # scale the integrand by exp(-f(u)) for accuracy
    I <- integrate(function(v) sapply(v, function(w) exp(f(w) - m)), -Inf, Inf,
                   rel.tol = 1e-13, abs.tol = 0)$value
    out <- out + c(m + log(I), m + 0.5 * log(2 * pi) - 0.5 * log(h))
  }
  -2 * out
}
for (q in c(1, 25)) {
  nm <- paste0("cbpp_agq", q)
  m <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cb,
             family = binomial, nAGQ = q, control = gctl)
  add_merMod(nm, m)
  add(nm, "lme4", "stat", c("deviance_integrate", "deviance_laplace"),
      cbpp_dev(fixef(m), getME(m, "theta")))
  if (q > 1) {  # lme4 issue #567: nAGQ > 1 drops the saturated log-likelihood
    sat <- sum(dbinom(cb$incidence, cb$size, cb$incidence / cb$size, log = TRUE))
    add(nm, "lme4", "stat", c("logLik_full", "deviance_full"),
        c(as.numeric(logLik(m)) + sat, -2 * (as.numeric(logLik(m)) + sat)))
  }
}
t <- tmb(cbind(incidence, size - incidence) ~ period + (1 | herd), cb, family = binomial)
add_tmb("cbpp_agq1", t)
add("cbpp_agq1", "glmmTMB", "stat", c("deviance_integrate", "deviance_laplace"),
    cbpp_dev(fixef(t)$cond, attr(VarCorr(t)$cond$herd, "stddev")))

# 5. Salamanders: negative binomial (NB2) GLMM
data(Salamanders, package = "glmmTMB")
sal <- data.frame(site = as.character(Salamanders$site), mined = as.character(Salamanders$mined),
                  spp = as.character(Salamanders$spp), cover = Salamanders$cover,
                  sample = Salamanders$sample, DOP = Salamanders$DOP, Wtemp = Salamanders$Wtemp,
                  DOY = Salamanders$DOY, count = Salamanders$count)
save_data(sal, "salamanders")
sal$mined <- factor(sal$mined, levels = c("yes", "no"))
t <- tmb(count ~ mined + (1 | site), sal, family = nbinom2)
add_tmb("salamanders_nb2", t)
m <- glmer.nb(count ~ mined + (1 | site), sal, control = gctl)
add_merMod("salamanders_nb2", m)
add("salamanders_nb2", "lme4", "disp", "theta", getME(m, "glmer.nb.theta"))

# 6. Simulated crossed Poisson GLMM
set.seed(1)
na <- 100; nb <- 40; N <- na * nb
cp <- data.frame(a = sprintf("a%03d", rep(seq_len(na), each = nb)),
                 b = sprintf("b%02d", rep(seq_len(nb), times = na)))
cp$x <- rnorm(N)
ua <- rnorm(na, 0, 0.5); ub <- rnorm(nb, 0, 0.3)
cp$y <- rpois(N, exp(0.5 + 0.3 * cp$x + ua[rep(seq_len(na), each = nb)] +
                       ub[rep(seq_len(nb), times = na)]))
save_data(cp[, c("y", "x", "a", "b")], "crossed_pois")
add_merMod("crossed_pois", glmer(y ~ x + (1 | a) + (1 | b), cp, family = poisson,
                                 nAGQ = 1, control = gctl))
add_tmb("crossed_pois", tmb(y ~ x + (1 | a) + (1 | b), cp, family = poisson))

# 7. InstEval: large crossed LMM, REML (no ranef rows), timed
data(InstEval, package = "lme4")
tm <- system.time(
  ie <- lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept), InstEval, REML = TRUE, control = ctl))
add_merMod("insteval_reml", ie, ranefs = FALSE)
add("insteval_reml", "lme4", "time", "lmer_elapsed_s", tm[["elapsed"]])
iv <- data.frame(y = InstEval$y, service = as.integer(as.character(InstEval$service)),
                 s = as.integer(as.character(InstEval$s)), d = as.integer(as.character(InstEval$d)),
                 dept = as.integer(as.character(InstEval$dept)))
tmp <- tempfile(fileext = ".csv")
write.csv(iv, tmp, row.names = FALSE)
ivf <- file.path(dir, "mixed_terms_data_insteval.csv")
if (file.size(tmp) < 3e6) invisible(file.copy(tmp, ivf, overwrite = TRUE)) else
  if (file.exists(ivf)) invisible(file.remove(ivf))
cat("InstEval CSV bytes:", file.size(tmp), "\n")

res <- do.call(rbind, out)
write.csv(res, file.path(dir, "mixed_terms_results.csv"), row.names = FALSE, quote = TRUE)
cat("lme4", as.character(packageVersion("lme4")), "glmmTMB",
    as.character(packageVersion("glmmTMB")), R.version.string, "\n")
cat("InstEval lmer elapsed:", tm[["elapsed"]], "s\n")
