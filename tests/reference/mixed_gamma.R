# Reference values for a Gamma GLMM in likelihax: glmmTMB (Laplace, ML).
# Run from the repository root:  Rscript tests/reference/mixed_gamma.R
# (R 4.2, glmmTMB 1.1.5.)
# Data (simulated here, set.seed(20), written to
# tests/reference/mixed_gamma_data.csv): 60 groups "g01".."g60" x 8 rows;
# draws in the order x ~ N(0, 1) (480 values), u ~ N(0, 0.4^2) (60 values),
# y ~ Gamma(shape = 3, scale = mu / 3) with log mu = 1 + 0.5 x + u.
# Model: y ~ x + (1 | g), family Gamma(link = "log"), ML (glmmTMB's default).
# Writes tests/reference/mixed_gamma_results.csv, columns
#   model, software, kind, term, value
# kind "fixef" / "se": fixed effects and their SEs (sdreport); "sd": the
# random-intercept SD (term "g:(Intercept)"); "sigma": glmmTMB's sigma for
# the Gamma family, the coefficient of variation 1/sqrt(shape); "stat":
# logLik; "ranef" / "ranef_se": conditional modes and SDs, term
# "g:<level>:(Intercept)" (glmmTMB's conditional SDs come from sdreport and
# include the fixed effects' uncertainty; lme4's condVar does not).
suppressPackageStartupMessages(library(glmmTMB))
set.seed(20)
G <- 60; n <- 8
g <- sprintf("g%02d", rep(seq_len(G), each = n))
x <- rnorm(G * n)
u <- rnorm(G, 0, 0.4)
mu <- exp(1 + 0.5 * x + u[rep(seq_len(G), each = n)])
y <- rgamma(G * n, shape = 3, scale = mu / 3)
d <- data.frame(y = y, x = x, g = g)
write.csv(d, "tests/reference/mixed_gamma_data.csv", row.names = FALSE)

fit <- glmmTMB(y ~ x + (1 | g), data = d, family = Gamma(link = "log"))
rows <- list()
add <- function(kind, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(model = "gamma_log", software = "glmmTMB",
                                          kind = kind, term = term, value = value)
}
b <- fixef(fit)$cond
se <- sqrt(diag(vcov(fit)$cond))
for (k in names(b)) { add("fixef", k, b[[k]]); add("se", k, se[[k]]) }
add("sd", "g:(Intercept)", attr(VarCorr(fit)$cond$g, "stddev")[[1]])
add("sigma", "sigma", sigma(fit))
add("stat", "logLik", as.numeric(logLik(fit)))
re <- ranef(fit, condVar = TRUE)$cond$g
cv <- attr(re, "condVar")
for (i in seq_len(nrow(re))) {
  lev <- rownames(re)[i]
  add("ranef", paste0("g:", lev, ":(Intercept)"), re[i, 1])
  add("ranef_se", paste0("g:", lev, ":(Intercept)"), sqrt(cv[i]))
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/mixed_gamma_results.csv", row.names = FALSE)
