# Reference values for parametric survival (accelerated failure time) and
# Tobit regression: survival::survreg 3.5-3 and AER::tobit 1.2-10 (R 4.2).
# Run from the repository root:  Rscript tests/reference/survreg.R
# Writes tests/reference/survreg_data_<name>.csv and
# tests/reference/survreg_results.csv with columns model, kind, term, value:
#   lung_<dist>    survreg(Surv(time, status) ~ age + sex + ph.ecog, lung, dist)
#                  for dist in weibull, exponential, lognormal, loglogistic
#                  (status 1 = censored, 2 = dead; the row with ph.ecog NA is
#                  dropped by survreg and by the tests)
#   ovarian_weibull survreg(Surv(futime, fustat) ~ age + ecog.ps, ovarian)
#   lung_interval  survreg(Surv(lower, upper, type = "interval2") ~ age + sex,
#                  dist = "weibull") on lung with deaths known to the 30-day
#                  window (lower = 30 floor(time / 30), upper = lower + 30),
#                  deaths before day 60 left-censored at 60 (lower NA), the
#                  censored rows right-censored at time (upper NA)
#   tobin_tobit    AER::tobit(durable ~ age + quant, data = tobin) (left = 0)
#   tobin_tobit2   AER::tobit(durable ~ age + quant, left = 0, right = 5, data = tobin)
# kinds: "coef" (terms as R names them), "se" (sqrt(diag(vcov)), survreg's
# analytic information, including "Log(scale)"), "scale", "stat" (logLik,
# df, nobs), "median" / "median_se": predict(type = "quantile", p = 0.5,
# se.fit = TRUE) for rows 1..5 of the data as written; "lp": the linear
# predictor for rows 1..5.
suppressMessages({library(survival); library(AER)})
dir <- "tests/reference"
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
save_data <- function(d, name) write.csv(d, file.path(dir, paste0("survreg_data_", name, ".csv")),
                                         row.names = FALSE)
record <- function(name, fit, nd) {
  cf <- coef(fit); v <- vcov(fit)
  add(name, "coef", names(cf), cf)
  add(name, "se", colnames(v), sqrt(diag(v)))
  add(name, "scale", "scale", fit$scale)
  ll <- logLik(fit)
  add(name, "stat", c("logLik", "df", "nobs"), c(as.numeric(ll), attr(ll, "df"), nobs(fit)))
  if (!inherits(fit, "tobit")) {
    p <- predict(fit, nd, type = "quantile", p = 0.5, se.fit = TRUE)
    add(name, "median", 1:5, p$fit); add(name, "median_se", 1:5, p$se.fit)
  }
  add(name, "lp", 1:5, predict(fit, nd, type = "lp"))
  cat(sprintf("%-16s logLik %.10f iter %s\n", name, as.numeric(ll), paste(fit$iter, collapse = " ")))
}
ctl <- survreg.control(rel.tolerance = 1e-13, toler.chol = 1e-15, maxiter = 100)
lung2 <- lung[!is.na(lung$ph.ecog), c("time", "status", "age", "sex", "ph.ecog")]
save_data(lung2, "lung")
for (dist in c("weibull", "exponential", "lognormal", "loglogistic")) {
  record(paste0("lung_", dist), survreg(Surv(time, status) ~ age + sex + ph.ecog, lung2,
                                        dist = dist, control = ctl), lung2[1:5, ])
}
ov <- ovarian[, c("futime", "fustat", "age", "ecog.ps")]
save_data(ov, "ovarian")
record("ovarian_weibull", survreg(Surv(futime, fustat) ~ age + ecog.ps, ov, control = ctl), ov[1:5, ])
li <- lung2
li$lower <- ifelse(li$status == 2, 30 * floor(li$time / 30), li$time)
li$upper <- ifelse(li$status == 2, li$lower + 30, NA)
early <- li$status == 2 & li$time < 60
li$lower[early] <- NA; li$upper[early] <- 60
save_data(li[, c("lower", "upper", "age", "sex")], "lung_interval")
record("lung_interval", survreg(Surv(lower, upper, type = "interval2") ~ age + sex, li,
                                dist = "weibull", control = ctl), li[1:5, ])
save_data(tobin, "tobin")
record("tobin_tobit", tobit(durable ~ age + quant, data = tobin, control = ctl), tobin[1:5, ])
record("tobin_tobit2", tobit(durable ~ age + quant, left = 0, right = 5, data = tobin,
                             control = ctl), tobin[1:5, ])
write.csv(do.call(rbind, out), file.path(dir, "survreg_results.csv"), row.names = FALSE)
