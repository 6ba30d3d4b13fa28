# Reference values for penalized regression splines (likelihax: lx.gam) from
# mgcv, on its own simulated examples (gamSim(1): four smooth terms). Run from
# tests/reference:  Rscript gam.R  (writes gam_data.csv, gam.csv, gam_fitted.csv)
# Cubic regression splines (bs = "cr", k = 10, knots by place.knots), the
# smoothing parameters by REML (Laplace for the Poisson model). mgcv rescales
# each penalty matrix (S.scale); "lambda" below is sp / S.scale, the
# coefficient of the unscaled penalty, the integral of f''^2 (for the Gaussian
# model divided by the scale, as likelihax's log-density carries it).
suppressMessages(library(mgcv))
set.seed(2)
d <- gamSim(1, n = 400, dist = "normal", scale = 2, verbose = FALSE)
set.seed(3)
dp <- gamSim(1, n = 400, dist = "poisson", scale = 0.25, verbose = FALSE)
data <- data.frame(x0 = d$x0, x1 = d$x1, x2 = d$x2, x3 = d$x3, y = d$y,
                   px0 = dp$x0, px1 = dp$x1, px2 = dp$x2, px3 = dp$x3, py = dp$y)
write.csv(data, "gam_data.csv", row.names = FALSE)
f <- y ~ s(x0, bs = "cr") + s(x1, bs = "cr") + s(x2, bs = "cr") + s(x3, bs = "cr")
fp <- py ~ s(px0, bs = "cr") + s(px1, bs = "cr") + s(px2, bs = "cr") + s(px3, bs = "cr")
f3 <- y ~ s(x0, bs = "cr") + s(x1, bs = "cr") + s(x2, bs = "cr")
fits <- list(gaussian = gam(f, data = data, method = "REML"),
             gaussian3 = gam(f3, data = data, method = "REML"),
             poisson = gam(fp, data = data, family = poisson, method = "REML"))
rows <- list()
fitted <- list()
for (nm in names(fits)) {
  b <- fits[[nm]]
  scale <- if (nm != "poisson") b$sig2 else 1
  for (i in seq_along(b$smooth)) {
    s <- b$smooth[[i]]
    rows[[length(rows) + 1]] <- data.frame(
      model = nm, term = s$label, what = c("lambda", "edf"),
      value = c(b$sp[i] / s$S.scale / scale, sum(b$edf[s$first.para:s$last.para])))
    rows[[length(rows) + 1]] <- data.frame(model = nm, term = s$label,
      what = paste0("knot", seq_along(s$xp)), value = as.numeric(s$xp))
  }
  V <- vcov(b)  # Bayesian posterior covariance Vp
  rows[[length(rows) + 1]] <- data.frame(
    model = nm, term = "", what = c("intercept", "intercept_se", "scale", "reml", "edf_total",
                                    "loglik"),
    value = c(coef(b)[1], sqrt(V[1, 1]), scale, b$gcv.ubre, sum(b$edf), as.numeric(logLik(b))))
  fitted[[nm]] <- fitted(b)
  pr <- predict(b, se.fit = TRUE)
  fitted[[paste0(nm, "_eta_se")]] <- pr$se.fit
}
out <- do.call(rbind, rows)
write.csv(out, "gam.csv", row.names = FALSE)
write.csv(as.data.frame(fitted), "gam_fitted.csv", row.names = FALSE)
print(out[!grepl("knot", out$what), ], digits = 10)
