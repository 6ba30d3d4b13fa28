# Reference values for a quadratic (ridge) penalty on parametric coefficients
# with its smoothing parameter by REML (likelihax: lx.gam(..., penalty=)), from
# mgcv's paraPen, on gam_data.csv (written by gam.R). Run from tests/reference:
#   Rscript gam_parapen.R  (writes gam_parapen.csv)
# The identity penalty on the coefficients of x0, x1 and x3 (one smoothing
# parameter), a cubic regression spline of x2; "lambda" as in gam.R (paraPen
# penalties are not rescaled: sp itself, divided by the scale for the Gaussian).
suppressMessages(library(mgcv))
data <- read.csv("gam_data.csv")
data$X <- cbind(data$x0, data$x1, data$x3)
data$PX <- cbind(data$px0, data$px1, data$px3)
fits <- list(
  gaussian = gam(y ~ X + s(x2, bs = "cr"), data = data, method = "REML",
                 paraPen = list(X = list(diag(3)))),
  poisson = gam(py ~ PX + s(px2, bs = "cr"), data = data, family = poisson, method = "REML",
                paraPen = list(PX = list(diag(3)))))
rows <- list()
for (nm in names(fits)) {
  b <- fits[[nm]]
  scale <- if (nm == "gaussian") b$sig2 else 1
  V <- vcov(b)
  rows[[length(rows) + 1]] <- data.frame(
    model = nm,
    what = c("lambda_penalty", "lambda_smooth", "edf_penalty", "edf_smooth", "reml",
             "coef1", "coef2", "coef3", "se1", "se2", "se3", "edf_total"),
    value = c(b$sp[1] / scale, b$sp[2] / b$smooth[[1]]$S.scale / scale,
              sum(b$edf[2:4]), sum(b$edf[5:13]), b$gcv.ubre, coef(b)[2:4],
              sqrt(diag(V))[2:4], sum(b$edf)))
}
out <- do.call(rbind, rows)
write.csv(out, "gam_parapen.csv", row.names = FALSE)
print(out, digits = 10)
