# Reference maximum of a 2-component full-covariance Gaussian mixture on
# Old Faithful (datasets::faithful), by mclust (EM, model "VVV", no prior).
# Components ordered by the mean of `eruptions` (likelihax's canonical order).
# Run from the repository root:  Rscript tests/reference/faithful_gmm.R
# Output: tests/reference/faithful_gmm_results.csv (name, value).
suppressPackageStartupMessages(library(mclust))
x <- as.matrix(read.csv("tests/reference/faithful.csv"))
fit <- Mclust(x, G = 2, modelNames = "VVV",
              control = emControl(tol = c(1e-12, 1e-12)))
mu <- fit$parameters$mean             # d x K
o <- order(mu[1, ])
pro <- fit$parameters$pro[o]
mu <- mu[, o]
S <- fit$parameters$variance$sigma[, , o]
out <- data.frame(name = c("loglik", "bic_mclust", "weights[0]", "weights[1]"),
                  value = c(fit$loglik, fit$bic, pro[1], pro[2]))
for (k in 1:2) {
  for (j in 1:2) out <- rbind(out, data.frame(
    name = sprintf("means[%d,%d]", k - 1, j - 1), value = mu[j, k]))
  for (i in 1:2) for (j in 1:2) out <- rbind(out, data.frame(
    name = sprintf("cov[%d][%d,%d]", k - 1, i - 1, j - 1), value = S[i, j, k]))
}
write.csv(out, "tests/reference/faithful_gmm_results.csv", row.names = FALSE)
cat(R.version.string, "mclust", as.character(packageVersion("mclust")), "\n")
print(out, digits = 12)
