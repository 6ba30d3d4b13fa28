# Reference values for likelihax mixed models (Laplace): lme4 and glmmTMB.
# Run from the repository root:  Rscript tests/reference/mixed.R
# Writes the data sets to tests/reference/mixed_data_<name>.csv and one long
# table tests/reference/mixed_results.csv with columns
#   model, software, kind, term, value
# kind "fixef": fixed-effect estimates; "se": their standard errors
#   (lme4: sqrt(diag(vcov(fit))); for lmer that is sigma^2 (RX'RX)^-1, i.e.
#   conditional on the variance parameters; for glmer the beta block of the
#   inverse of the finite-difference Hessian of the deviance in (theta, beta);
#   glmmTMB: sdreport, the beta block of the inverse of the joint Hessian);
# "sd"/"cor": random-effect SDs and correlations; "sigma": residual SD;
# "stat": logLik, AIC, BIC, nobs, ngroups;
# "ranef": conditional modes, "ranef_se": their conditional SDs (condVar),
#   term "<level>:<coef>".
# Numbers with 15 significant digits (sprintf("%.15g")).
suppressMessages({library(lme4); library(glmmTMB)})
out <- list()
add <- function(model, software, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, software = software,
    kind = kind, term = term, value = sprintf("%.15g", value))
}
add_merMod <- function(model, fit, software = "lme4") {
  fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
  add(model, software, "fixef", names(fe), fe)
  add(model, software, "se", names(fe), se)
  vc <- as.data.frame(VarCorr(fit))
  for (i in seq_len(nrow(vc))) {
    if (vc$grp[i] == "Residual") add(model, software, "sigma", "sigma", vc$sdcor[i])
    else if (is.na(vc$var2[i])) add(model, software, "sd", vc$var1[i], vc$sdcor[i])
    else add(model, software, "cor", paste(vc$var1[i], vc$var2[i], sep = ","), vc$sdcor[i])
  }
  add(model, software, "stat", c("logLik", "AIC", "BIC", "nobs"),
      c(as.numeric(logLik(fit)), AIC(fit), BIC(fit), nobs(fit)))
  re <- ranef(fit, condVar = TRUE)[[1]]
  pv <- attr(re, "postVar")
  for (j in seq_len(ncol(re))) {
    add(model, software, "ranef", paste(rownames(re), colnames(re)[j], sep = ":"), re[, j])
    add(model, software, "ranef_se", paste(rownames(re), colnames(re)[j], sep = ":"),
        sqrt(pv[j, j, ]))
  }
  add(model, software, "stat", "singular", as.numeric(isSingular(fit)))
}
add_tmb <- function(model, fit) {
  fe <- fixef(fit)$cond; se <- sqrt(diag(vcov(fit)$cond))
  add(model, "glmmTMB", "fixef", names(fe), fe)
  add(model, "glmmTMB", "se", names(fe), se)
  vc <- VarCorr(fit)$cond[[1]]
  sds <- attr(vc, "stddev")
  add(model, "glmmTMB", "sd", names(sds), sds)
  add(model, "glmmTMB", "stat", c("logLik", "AIC", "BIC"),
      c(as.numeric(logLik(fit)), AIC(fit), BIC(fit)))
}

# 1. LMM: sleepstudy, correlated random intercept and slope, ML
data(sleepstudy, package = "lme4")
write.csv(sleepstudy, "tests/reference/mixed_data_sleepstudy.csv", row.names = FALSE)
ctl <- lmerControl(optimizer = "nloptwrap",
                   optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12))
m1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE, control = ctl)
add_merMod("sleepstudy", m1)
# random intercept only (exact closed form also tested in Python)
m1b <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = FALSE, control = ctl)
add_merMod("sleepstudy_int", m1b)

# 2. Binomial GLMM: cbpp
data(cbpp, package = "lme4")
cbpp$herd <- as.character(cbpp$herd); cbpp$period <- as.character(cbpp$period)
write.csv(cbpp, "tests/reference/mixed_data_cbpp.csv", row.names = FALSE)
gctl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
m2 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp,
            family = binomial, nAGQ = 1, control = gctl)
add_merMod("cbpp", m2)
t2 <- glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp,
              family = binomial)
add_tmb("cbpp", t2)

# 3. Poisson GLMM: grouseticks, random intercept per brood
data(grouseticks, package = "lme4")
gt <- data.frame(TICKS = grouseticks$TICKS, YEAR = paste0("Y", grouseticks$YEAR),
                 HEIGHT = (grouseticks$HEIGHT - mean(grouseticks$HEIGHT)) / sd(grouseticks$HEIGHT),
                 BROOD = as.character(grouseticks$BROOD))
write.csv(gt, "tests/reference/mixed_data_grouseticks.csv", row.names = FALSE)
m3 <- glmer(TICKS ~ YEAR + HEIGHT + (1 | BROOD), gt, family = poisson, nAGQ = 1,
            control = gctl)
add_merMod("grouseticks", m3)
t3 <- glmmTMB(TICKS ~ YEAR + HEIGHT + (1 | BROOD), gt, family = poisson)
add_tmb("grouseticks", t3)

# 4. Poisson GLMM with correlated random intercept and slope (simulated here)
set.seed(20240607)
G <- 60; n <- 8
sim <- data.frame(g = paste0("g", rep(seq_len(G), each = n)), x = rnorm(G * n))
Lb <- matrix(c(0.5, 0, 0.15, 0.25), 2, 2, byrow = TRUE)
b <- matrix(rnorm(2 * G), G) %*% t(Lb)
gi <- rep(seq_len(G), each = n)
sim$y <- rpois(G * n, exp(0.4 + 0.3 * sim$x + b[gi, 1] + b[gi, 2] * sim$x))
write.csv(sim, "tests/reference/mixed_data_poisslope.csv", row.names = FALSE)
m4 <- glmer(y ~ x + (x | g), sim, family = poisson, nAGQ = 1, control = gctl)
add_merMod("poisslope", m4)
t4 <- glmmTMB(y ~ x + (x | g), sim, family = poisson)
add_tmb("poisslope", t4)
add("poisslope", "glmmTMB", "cor", "(Intercept),x",
    attr(VarCorr(t4)$cond[[1]], "correlation")[1, 2])

res <- do.call(rbind, out)
write.csv(res, "tests/reference/mixed_results.csv", row.names = FALSE, quote = TRUE)
cat("lme4", as.character(packageVersion("lme4")), "glmmTMB",
    as.character(packageVersion("glmmTMB")), R.version.string, "\n")
print(summary(m1)$coefficients); print(logLik(m1)); print(VarCorr(m1))
print(summary(m2)$coefficients); print(summary(m3)$coefficients)
print(summary(t4))
