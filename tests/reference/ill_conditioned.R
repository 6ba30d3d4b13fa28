# Reference fits for tests/engine/test_ill_conditioned.py (issue 18, item 1): regressions on
# raw calendar years, y ~ year + I(year^2), whose information has scaled condition
# numbers of about 1e9-1e12. R fits by QR decompositions of the (weighted) design, so
# it does not square the condition number. IRLS is run to epsilon = 1e-14 and restarted
# from its own estimates until no coefficient moves by 1e-13 relative.
# Run: Rscript tests/reference/ill_conditioned.R  (writes ill_conditioned_results.csv)
d <- read.csv("ill_conditioned_data.csv")
out <- data.frame()
add <- function(set, term, kind, value) {
  out <<- rbind(out, data.frame(set = set, term = term, kind = kind,
                                value = sprintf("%.17g", value)))
}
tight <- function(formula, data, family) {
  ctl <- glm.control(epsilon = 1e-14, maxit = 1000)
  f <- glm(formula, data = data, family = family, control = ctl)
  for (i in 1:20) {
    g <- glm(formula, data = data, family = family, start = coef(f), control = ctl)
    moved <- max(abs(coef(g) - coef(f)) / abs(coef(f)))
    f <- g
    if (moved < 1e-13) break
  }
  f
}
fits <- list(
  gauss_1950 = list(gaussian(), "glm"),
  gauss_2000 = list(gaussian(), "glm"),
  pois_1980 = list(poisson(), "glm"),
  logit_1990 = list(binomial(), "glm"),
  nls_1980 = list(gaussian(link = "log"), "nls")
)
for (set in names(fits)) {
  s <- d[d$set == set, ]
  f <- tight(y ~ year + I(year^2), s, fits[[set]][[1]])
  b <- coef(f)
  n <- nrow(s)
  if (fits[[set]][[2]] == "nls") {
    # The MLE of a Gaussian nonlinear model y = exp(b0 + b1 year + b2 year^2) + e
    # is least squares: the Gaussian log-link GLM's estimate (nls() does not
    # converge on raw years, even from this optimum). sigma^2 = RSS / n, and SEs
    # from the observed information of b (not glm's expected one).
    rss <- sum(residuals(f, type = "response")^2)
    sigma <- sqrt(rss / n)
    # Observed information of b at the MLE for Gaussian errors: (J'J - sum r_i H_i) / sigma^2
    eta <- b[[1]] + b[[2]] * s$year + b[[3]] * s$year^2
    mu <- exp(eta)
    r <- s$y - mu
    X <- cbind(1, s$year, s$year^2)
    info <- (t(X * mu) %*% (X * mu) - t(X * (r * mu)) %*% X) / sigma^2
    sc <- 1 / sqrt(diag(info))  # scaled, as solve() refuses the raw matrix
    se <- sqrt(diag(solve(info * outer(sc, sc)))) * sc
    cat(set, "score / SE-scaled:", max(abs(t(X * mu) %*% r / sigma^2 * se)), "\n")
    for (j in 1:3) {
      add(set, names(b)[j], "estimate", b[[j]])
      add(set, names(b)[j], "se", se[j])
    }
    add(set, "sigma", "estimate", sigma)
    add(set, "sigma", "se", sigma / sqrt(2 * n))
    add(set, "", "loglik", -n / 2 * (log(2 * pi * sigma^2) + 1))
    next
  }
  se <- sqrt(diag(vcov(f)))
  for (j in 1:3) {
    add(set, names(b)[j], "estimate", b[[j]])
    add(set, names(b)[j], "se", se[[j]])
  }
  add(set, "", "loglik", as.numeric(logLik(f)))
  if (set %in% c("gauss_1950", "gauss_2000")) {
    add(set, "", "dispersion", summary(f)$dispersion)
  }
}
print(warnings())
write.csv(out, "ill_conditioned_results.csv", row.names = FALSE, quote = FALSE)
