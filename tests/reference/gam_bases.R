# Reference values for lx.gam's other smooth bases from mgcv 1.8-41: cyclic
# cubic regression splines (bs = "cc"), P-splines (bs = "ps") and thin-plate
# regression splines (bs = "tp"), smoothing parameters by REML (Laplace for
# the Poisson and binomial models). Run from tests/reference:
#   Rscript gam_bases.R  (writes gam_bases_data.csv, gam_bases.csv and
# gam_bases_fitted.csv, fitted values and the linear predictor's standard
# errors at every 8th row)
# The P-spline and thin-plate models use gam.R's data (gam_data.csv); the
# cyclic models a periodic covariate t on [0, 1) (gam_bases_data.csv).
# "lambda" is sp / S.scale (divided by the scale for Gaussian models): the
# coefficient of the unscaled penalty, as in gam.R. "eta_new1" .. "eta_new4":
# the linear predictor with every covariate at -0.1, 0.25, 0.6 and 1.15.
suppressMessages(library(mgcv))
data <- read.csv("gam_data.csv")
set.seed(11)
n <- 400
t <- runif(n)
x <- runif(n)
per <- sin(2 * pi * t) + 0.5 * cos(4 * pi * t)
cyc <- data.frame(t = t, x = x,
                  y = 2 * per + 0.8 * x + rnorm(n, sd = 0.8),
                  by = rbinom(n, 1, plogis(1.2 * per + 2 * sin(3 * x) - 1)))
write.csv(cyc, "gam_bases_data.csv", row.names = FALSE)
fits <- list(
  cc_gaussian = gam(y ~ x + s(t, bs = "cc", k = 12), data = cyc, method = "REML"),
  cc_binomial = gam(by ~ s(t, bs = "cc") + s(x, bs = "tp", k = 6), data = cyc,
                    family = binomial, method = "REML"),
  ps_gaussian = gam(y ~ s(x0, bs = "ps") + s(x1, bs = "ps") + s(x2, bs = "ps", k = 12),
                    data = data, method = "REML"),
  ps_poisson = gam(py ~ s(px0, bs = "ps") + s(px1, bs = "ps") + s(px2, bs = "ps"),
                   data = data, family = poisson, method = "REML"),
  tp_gaussian = gam(y ~ s(x0, bs = "tp") + s(x1, bs = "tp") + s(x2, bs = "tp", k = 12),
                    data = data, method = "REML"),
  tp_poisson = gam(py ~ s(px0) + s(px1) + s(px2) + s(px3), data = data,
                   family = poisson, method = "REML"))
rows <- list()
newx <- c(-0.1, 0.25, 0.6, 1.15)
at <- seq(1, n, by = 8)  # the rows whose fitted values are kept
fitted <- list(row = at)
for (nm in names(fits)) {
  b <- fits[[nm]]
  scale <- if (grepl("gaussian", nm)) b$sig2 else 1
  for (i in seq_along(b$smooth)) {
    s <- b$smooth[[i]]
    rows[[length(rows) + 1]] <- data.frame(
      model = nm, term = s$label, what = c("lambda", "edf"),
      value = c(b$sp[i] / s$S.scale / scale, sum(b$edf[s$first.para:s$last.para])))
  }
  V <- vcov(b)
  rows[[length(rows) + 1]] <- data.frame(
    model = nm, term = "", what = c("intercept", "intercept_se", "scale", "reml", "edf_total"),
    value = c(coef(b)[1], sqrt(V[1, 1]), scale, b$gcv.ubre, sum(b$edf)))
  # the linear predictor at new values, below, inside and above the data's range
  nd <- as.data.frame(sapply(all.vars(formula(b))[-1], function(v) newx, simplify = FALSE))
  rows[[length(rows) + 1]] <- data.frame(model = nm, term = "", what = paste0("eta_new", 1:4),
                                         value = as.numeric(predict(b, nd)))
  fitted[[nm]] <- fitted(b)[at]
  fitted[[paste0(nm, "_eta_se")]] <- predict(b, se.fit = TRUE)$se.fit[at]
}
out <- do.call(rbind, rows)
write.csv(out, "gam_bases.csv", row.names = FALSE)
write.csv(as.data.frame(fitted), "gam_bases_fitted.csv", row.names = FALSE)
print(out, digits = 10)
