# Reference values for binomial GLMs written with trials or with prior weights:
# R's glm(cbind(s, n - s) ~ x, binomial) and glm(s / n ~ x, binomial,
# weights = n) are the same model (same estimates, standard errors, deviance,
# log-likelihood and AIC; R's binomial log-likelihood includes log choose(n, s)).
# Data: the budworm experiment of Venables & Ripley (2002, section 7.2; 20
# moths per batch, built here) and R's datasets::esoph (Breslow & Day 1980;
# cases and controls per cell, so the trials vary by row).
# Run from the repository root:  Rscript tests/reference/glm_binomial_weights.R
# Writes tests/reference/glm_binomial_weights_data_budworm.csv,
# tests/reference/glm_binomial_weights_data_esoph.csv and one long table
# tests/reference/glm_binomial_weights_results.csv with columns model, kind,
# term, value (15 significant digits).
options(digits = 15)
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
tight <- glm.control(epsilon = 1e-14, maxit = 200)  # converged to rounding
add_glm <- function(model, fit) {
  s <- summary(fit)
  add(model, "coef", names(coef(fit)), coef(fit))
  add(model, "se", rownames(s$coefficients), s$coefficients[, 2])
  add(model, "stat", c("deviance", "null_deviance", "df_residual", "logLik", "AIC",
                       "nobs"),
      c(deviance(fit), fit$null.deviance, df.residual(fit), as.numeric(logLik(fit)),
        AIC(fit), nobs(fit)))
}
bw <- data.frame(ldose = rep(0:5, 2), dead = c(1, 4, 9, 13, 18, 20, 0, 2, 6, 10, 12, 16),
                 sex = rep(c("M", "F"), c(6, 6)), n = 20)
bw$p <- bw$dead / bw$n
write.csv(bw, "tests/reference/glm_binomial_weights_data_budworm.csv", row.names = FALSE)
add_glm("budworm_trials", glm(cbind(dead, n - dead) ~ sex + ldose, binomial, bw,
                              control = tight))
add_glm("budworm_weights", glm(p ~ sex + ldose, binomial, bw, weights = n,
                               control = tight))
add_glm("budworm_probit_weights", glm(p ~ sex + ldose, binomial("probit"), bw,
                                      weights = n, control = tight))
es <- data.frame(agegp = as.character(esoph$agegp), alc = as.integer(esoph$alcgp),
                 tob = as.integer(esoph$tobgp), ncases = esoph$ncases,
                 ncontrols = esoph$ncontrols)
es$n <- es$ncases + es$ncontrols
es$p <- es$ncases / es$n
write.csv(es, "tests/reference/glm_binomial_weights_data_esoph.csv", row.names = FALSE)
es$agegp <- factor(es$agegp)  # unordered: treatment contrasts against 25-34
add_glm("esoph_trials", glm(cbind(ncases, ncontrols) ~ agegp + alc + tob, binomial, es,
                            control = tight))
add_glm("esoph_weights", glm(p ~ agegp + alc + tob, binomial, es, weights = n,
                             control = tight))
write.csv(do.call(rbind, out), "tests/reference/glm_binomial_weights_results.csv",
          row.names = FALSE)
