# Reference predictions of mixed models: lme4 predict.merMod (glmmTMB's
# predict for the GLMM, whose Laplace optimum is glmmTMB's and likelihax's
# to 1e-8, while glmer's stops ~5.8e-4 short in deviance), conditional on
# the random effects (re.form = NULL, new levels at zero: allow.new.levels =
# TRUE) and at the population level (re.form = NA), on the link and the
# response scale. Run from the repository root:
#   Rscript tests/reference/mixed_predict.R  (R 4.2, lme4 1.1-31, glmmTMB 1.1.5)
# Reads the data sets that mixed_terms.R wrote; writes
# tests/reference/mixed_predict_results.csv with columns
#   model, kind (conditional / population), type (link / response), row, value
# and the new data as mixed_predict_newdata_<model>.csv (row = 1..n).
# Models: sleepstudy_reml  Reaction ~ Days + (Days | Subject), REML
#         cbpp             cbind(incidence, size - incidence) ~ period + (1 | herd),
#                          binomial (period a factor), Laplace, glmmTMB
#         penicillin_reml  diameter ~ 1 + (1 | plate) + (1 | sample), REML
suppressMessages({library(lme4); library(glmmTMB)})
dir <- "tests/reference"
rd <- function(name) read.csv(file.path(dir, paste0("mixed_terms_data_", name, ".csv")))
ctl <- lmerControl(optimizer = "nloptwrap",
                   optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12))
out <- list()
record <- function(model, fit, nd) {
  write.csv(nd, file.path(dir, paste0("mixed_predict_newdata_", model, ".csv")), row.names = FALSE)
  for (kind in c("conditional", "population")) for (type in c("link", "response")) {
    re <- if (kind == "conditional") NULL else NA
    p <- predict(fit, newdata = nd, re.form = re, type = type, allow.new.levels = TRUE)
    p <- as.numeric(p)
    out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, type = type,
                                          row = seq_along(p), value = sprintf("%.15g", p))
  }
}
ss <- rd("sleepstudy"); ss$Subject <- factor(ss$Subject)
m <- lmer(Reaction ~ Days + (Days | Subject), ss, REML = TRUE, control = ctl)
record("sleepstudy_reml", m, data.frame(Days = c(0, 1, 2, 5, 3, 9.5),
                                        Subject = c("308", "308", "308", "309", "999", "372")))
cb <- rd("cbpp"); cb$period <- factor(cb$period); cb$herd <- factor(cb$herd)
tctl <- glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4))
f <- glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd), cb, family = binomial,
             control = tctl)
p <- f$fit$par  # polished: three Newton steps on TMB's exact gradient, then refitted
for (k in 1:3) p <- p - solve(optimHess(p, f$obj$fn, f$obj$gr), as.numeric(f$obj$gr(p)))
st <- f$obj$env$parList(p)
m <- glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd), cb, family = binomial,
             control = tctl, start = st[names(st) != "b"])
record("cbpp", m, data.frame(period = factor(c(1, 2, 3, 4, 1), levels = 1:4),
                             herd = c("1", "1", "5", "15", "99"), incidence = 0, size = 1))
pen <- rd("penicillin")
m <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), pen, REML = TRUE, control = ctl)
record("penicillin_reml", m, data.frame(plate = c("a", "b", "x", "a"), sample = c("A", "F", "C", "Z")))
write.csv(do.call(rbind, out), file.path(dir, "mixed_predict_results.csv"), row.names = FALSE)
