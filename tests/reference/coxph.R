# Reference values for Cox proportional hazards regression: survival::coxph
# 3.5-3 (R 4.2). Run from the repository root:  Rscript tests/reference/coxph.R
# Uses the data survreg.R wrote (survreg_data_lung.csv: time, status 1/2,
# age, sex, ph.ecog; survreg_data_ovarian.csv). Writes
# tests/reference/coxph_results.csv with columns model, kind, term, value:
#   lung_efron     coxph(Surv(time, status) ~ age + sex + ph.ecog, ties = "efron")
#   lung_breslow   the same, ties = "breslow"
#   lung_strata    coxph(Surv(time, status) ~ age + ph.ecog + strata(sex))  (Efron)
#   lung_weights   lung_efron with case weights w = 1, 2, 3 in turn (robust too)
#   lung_weights_breslow  the same with weights w / 1.7 and Breslow's ties
#   ovarian_efron  coxph(Surv(futime, fustat) ~ age + ecog.ps)
# kinds: "coef"; "se" (model-based, the inverse information); "robust_se"
# (coxph(..., robust = TRUE): the Lin-Wei sandwich of the score residuals);
# "stat": loglik_null, loglik (the partial log-likelihood at 0 and at the
# estimate), nevent.
suppressMessages(library(survival))
dir <- "tests/reference"
rd <- function(name) read.csv(file.path(dir, paste0("survreg_data_", name, ".csv")))
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)
record <- function(name, fit) {
  cf <- coef(fit)
  add(name, "coef", names(cf), cf)
  add(name, "se", names(cf), sqrt(diag(fit$naive.var %||% vcov(fit))))
  add(name, "robust_se", names(cf), sqrt(diag(vcov(fit))))
  add(name, "stat", c("loglik_null", "loglik", "nevent"), c(fit$loglik, fit$nevent))
  cat(sprintf("%-14s loglik %.10f iter %d\n", name, fit$loglik[2], fit$iter))
}
`%||%` <- function(a, b) if (is.null(a)) b else a
lung <- rd("lung")
record("lung_efron", coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, robust = TRUE,
                           control = ctl))
record("lung_breslow", coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, ties = "breslow",
                             robust = TRUE, control = ctl))
record("lung_strata", coxph(Surv(time, status) ~ age + ph.ecog + strata(sex), lung,
                            robust = TRUE, control = ctl))
# Case weights (1, 2, 3 in turn by row; and the same divided by 1.7): the
# weighted partial likelihood of coxph(weights =), model-based and robust SEs.
lung$w <- 1 + (seq_len(nrow(lung)) %% 3)
lung$wf <- lung$w / 1.7
record("lung_weights", coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, weights = w,
                             robust = TRUE, control = ctl))
record("lung_weights_breslow", coxph(Surv(time, status) ~ age + sex + ph.ecog, lung,
                                     weights = wf, ties = "breslow", robust = TRUE,
                                     control = ctl))
ov <- rd("ovarian")
record("ovarian_efron", coxph(Surv(futime, fustat) ~ age + ecog.ps, ov, robust = TRUE,
                              control = ctl))
write.csv(do.call(rbind, out), file.path(dir, "coxph_results.csv"), row.names = FALSE)
# Survival curves of the lung_efron and lung_breslow fits at two new rows
# (survfit.coxph, its default estimator for the fit's ties: Efron's or
# Breslow's cumulative hazard), at times 100, 200, ..., 800: kind "surv",
# term "<row>:<time>", written to tests/reference/coxph_survfit.csv.
sf <- list()
nd <- data.frame(age = c(60, 70), sex = c(1, 2), ph.ecog = c(1, 0))
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, ties = ties, control = ctl)
  s <- summary(survfit(fit, newdata = nd), times = seq(100, 800, 100))
  for (r in 1:2) sf[[length(sf) + 1]] <- data.frame(model = paste0("lung_", ties), kind = "surv",
    term = paste0(r, ":", s$time), value = sprintf("%.15g", s$surv[, r]))
}
# Standard errors of the survival curves (survfit's std.err, of S; the
# variance of the cumulative hazard includes the coefficients' covariance),
# kind "surv_se", for the lung fits and the stratified one.
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, ties = ties, control = ctl)
  s <- summary(survfit(fit, newdata = nd), times = seq(100, 800, 100))
  for (r in 1:2) sf[[length(sf) + 1]] <- data.frame(model = paste0("lung_", ties),
    kind = "surv_se", term = paste0(r, ":", s$time), value = sprintf("%.15g", s$std.err[, r]))
}
# The weighted fits' curves (the weighted Efron / Breslow cumulative hazard).
for (ties in c("efron", "breslow")) {
  fit <- coxph(Surv(time, status) ~ age + sex + ph.ecog, lung, ties = ties, weights = wf,
               control = ctl)
  s <- summary(survfit(fit, newdata = nd), times = seq(100, 800, 100))
  for (r in 1:2) sf[[length(sf) + 1]] <- data.frame(model = paste0("lung_weights_", ties),
    kind = "surv", term = paste0(r, ":", s$time), value = sprintf("%.15g", s$surv[, r]))
}
# The stratified fit's curves: each new row in its own stratum's baseline.
fit <- coxph(Surv(time, status) ~ age + ph.ecog + strata(sex), lung, control = ctl)
nds <- data.frame(age = c(60, 70), ph.ecog = c(1, 0), sex = c(1, 2))
for (r in 1:2) {
  s <- summary(survfit(fit, newdata = nds[r, ]), times = seq(100, 800, 100), extend = TRUE)
  sf[[length(sf) + 1]] <- data.frame(model = "lung_strata", kind = "surv",
    term = paste0(r, ":", s$time), value = sprintf("%.15g", s$surv))
}
write.csv(do.call(rbind, sf), file.path(dir, "coxph_survfit.csv"), row.names = FALSE)
