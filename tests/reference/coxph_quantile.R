# Reference values for quantiles of Cox survival curves: quantile(survfit(fit,
# newdata), probs = c(0.25, 0.5, 0.75)) with survfit's default confidence
# limits (conf.type = "log", conf.int = 0.95), survival 3.5-3 (R 4.2).
# Run from the repository root:  Rscript tests/reference/coxph_quantile.R
# Uses survreg_data_lung.csv (written by survreg.R). Writes
# tests/reference/coxph_quantile.csv, one line per case, new row, stratum and
# probability: case, row, stratum (empty unless the curve is one of several
# strata for the row), the row's covariates age, sex, ph.ecog, p, quantile,
# lower, upper (NA where the curve or band never falls to 1 - p).
#   lung_efron    coxph(Surv(time, status) ~ age + sex + ph.ecog) at three
#                 rows; the third's band stays above 0.5 (upper limit NA)
#   lung_breslow  the same with ties = "breslow"
#   lung_weights  lung_efron with case weights 1, 2, 3 in turn
#   lung_weights_robust  the weights divided by 1.7: coxph's variance is then
#                 the robust one (its default for non-integer weights), and
#                 survfit's standard errors use it
#   lung_strata   coxph(Surv(time, status) ~ age + ph.ecog + strata(sex)):
#                 each row in its own stratum (sex given)
#   lung_strata_all  the same fit at rows without sex: one curve per stratum
#   lung_hit      lung_efron at two ages chosen so that the curve equals 0.5
#                 at an event time (the 60th) and at the last event time:
#                 quantile's rule for a curve flat at 1 - p (the midpoint of
#                 the flat stretch; at the end, of it and the last time)
suppressMessages(library(survival))
dir <- "tests/reference"
lung <- read.csv(file.path(dir, "survreg_data_lung.csv"))
lung$w <- 1 + (seq_len(nrow(lung)) %% 3)
lung$wf <- lung$w / 1.7
ctl <- coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 100)
probs <- c(0.25, 0.5, 0.75)
out <- list()
fmt <- function(v) ifelse(is.na(c(v)), "NA", sprintf("%.15g", c(v)))
add <- function(case, nd, q, stratum = "") {
  for (i in seq_len(nrow(nd))) {
    out[[length(out) + 1]] <<- data.frame(case = case, row = i, stratum = stratum,
      age = fmt(nd$age[i]), sex = fmt(if (is.null(nd$sex)) NA else nd$sex[i]),
      ph.ecog = fmt(nd$ph.ecog[i]), p = probs, quantile = fmt(q$quantile[i, ]),
      lower = fmt(q$lower[i, ]), upper = fmt(q$upper[i, ]))
  }
}
nd <- data.frame(age = c(60, 70, 50), sex = c(1, 2, 2), ph.ecog = c(1, 0, 0))
f <- Surv(time, status) ~ age + sex + ph.ecog
efron <- coxph(f, lung, control = ctl)
add("lung_efron", nd, quantile(survfit(efron, newdata = nd), probs))
add("lung_breslow", nd, quantile(survfit(coxph(f, lung, ties = "breslow", control = ctl),
                                         newdata = nd), probs))
add("lung_weights", nd, quantile(survfit(coxph(f, lung, weights = w, control = ctl),
                                         newdata = nd), probs))
fw <- coxph(f, lung, weights = wf, control = ctl)
stopifnot(!is.null(fw$naive.var))  # robust
add("lung_weights_robust", nd, quantile(survfit(fw, newdata = nd), probs))
fs <- coxph(Surv(time, status) ~ age + ph.ecog + strata(sex), lung, control = ctl)
nds <- data.frame(age = c(60, 70), ph.ecog = c(1, 0), sex = c(1, 2))
for (r in 1:2) {
  q <- quantile(survfit(fs, newdata = nds[r, ]), probs)
  out[[length(out) + 1]] <- data.frame(case = "lung_strata", row = r, stratum = "",
    age = fmt(nds$age[r]), sex = fmt(nds$sex[r]), ph.ecog = fmt(nds$ph.ecog[r]), p = probs,
    quantile = fmt(q$quantile), lower = fmt(q$lower), upper = fmt(q$upper))
}
nda <- nds[, c("age", "ph.ecog")]
q <- quantile(survfit(fs, newdata = nda), probs)  # arrays (stratum, row, p)
for (s in 1:2) {
  qs <- list(quantile = q$quantile[s, , ], lower = q$lower[s, , ], upper = q$upper[s, , ])
  add("lung_strata_all", nda, qs, stratum = sub("sex=", "", dimnames(q$quantile)[[1]][s]))
}
# Ages putting the curve at exactly 0.5 (sex 1, ph.ecog 1): exp(-H0(t) e^eta) = 0.5.
bh <- basehaz(efron, centered = FALSE)
tev <- sort(unique(lung$time[lung$status == 2]))
cf <- coef(efron)
age_at <- function(t) {
  eta <- log(log(2) / bh$hazard[match(t, bh$time)])
  (eta - cf[["sex"]] - cf[["ph.ecog"]]) / cf[["age"]]
}
ndh <- data.frame(age = c(age_at(tev[60]), age_at(tev[length(tev)])), sex = 1, ph.ecog = 1)
add("lung_hit", ndh, quantile(survfit(efron, newdata = ndh), probs))
res <- do.call(rbind, out)
res$age <- ifelse(res$age == "NA", "NA", sprintf("%.17g", as.numeric(res$age)))
write.csv(res, file.path(dir, "coxph_quantile.csv"), row.names = FALSE, quote = FALSE)
print(res[res$case == "lung_hit", ])
cat(sprintf("event times around the hits: %g %g; last event %g, last time %g\n",
            tev[60], tev[61], tev[length(tev)], max(lung$time)))
