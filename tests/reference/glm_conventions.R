# Reference values for likelihax GLM conventions: prior (variance) weights,
# NB2 with a fixed theta, MASS::glm.nb's standard errors, and the model
# comparisons of likelihax.inference._compare (LR tests of a GLM against the
# mixed model that adds a variance component; pscl's Vuong test).
# Run from the repository root:  Rscript tests/reference/glm_conventions.R
# Writes tests/reference/glm_conventions_data_quine.csv (MASS::quine with a
# column w of prior weights 1, 1.5, 2) and one long table
# tests/reference/glm_conventions_results.csv with columns model, kind, term,
# value (15 significant digits).
suppressMessages({library(MASS); library(pscl); library(lme4); library(glmmTMB)})
options(digits = 15)
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, kind = kind, term = term,
                                        value = sprintf("%.15g", value))
}
q <- quine
q$w <- 1 + (seq_len(nrow(q)) %% 3) / 2
write.csv(q, "tests/reference/glm_conventions_data_quine.csv", row.names = FALSE)
f <- ~ Eth + Sex + Age + Lrn
tight <- glm.control(epsilon = 1e-14, maxit = 200)  # converged to rounding
add_glm <- function(model, fit, dispersion = NULL) {
  s <- summary(fit, dispersion = dispersion)
  add(model, "coef", names(coef(fit)), coef(fit))
  add(model, "se", rownames(s$coefficients), s$coefficients[, 2])
  add(model, "stat", c("deviance", "null_deviance", "df_residual", "dispersion",
                       "logLik", "AIC"),
      c(deviance(fit), fit$null.deviance, df.residual(fit), s$dispersion,
        as.numeric(logLik(fit)), AIC(fit)))
}
# prior weights
add_glm("gaussian_w", glm(update(f, log(Days + 1) ~ .), gaussian, q, weights = w, control = tight))
gw <- glm(update(f, Days + 1 ~ .), Gamma("log"), q, weights = w, control = tight)
add_glm("gamma_w", gw)
add_glm("invgauss_w", glm(update(f, Days + 1 ~ .), inverse.gaussian("log"), q,
                          weights = w, start = coef(gw), control = tight))
add_glm("poisson_w", glm(update(f, Days ~ .), poisson, q, weights = w, control = tight))
# NB2 with theta fixed at 1.5 (dispersion 1 in the summary, as glm.nb)
add_glm("nb_theta1.5", glm(update(f, Days ~ .), negative.binomial(1.5), q, control = tight),
        dispersion = 1)
# MASS::glm.nb
nb <- glm.nb(update(f, Days ~ .), q, control = tight)
add_glm("glm.nb", nb, dispersion = 1)
add("glm.nb", "theta", c("theta", "SE.theta", "twologlik"),
    c(nb$theta, nb$SE.theta, nb$twologlik))
# LR tests: GLM against the mixed model with random intercepts (ML)
cb <- read.csv("tests/reference/mixed_data_cbpp.csv")
cb$herd <- factor(cb$herd); cb$period <- factor(cb$period)
g0 <- glm(cbind(incidence, size - incidence) ~ period, binomial, cb, control = tight)
# (glmmTMB: the Laplace likelihood maximized to rounding; glmer's optimizer
# stops 3e-4 below it on this model)
g1 <- glmmTMB(cbind(incidence, size - incidence) ~ period + (1 | herd), cb, binomial)
ss <- read.csv("tests/reference/mixed_data_sleepstudy.csv")
ss$Subject <- factor(ss$Subject)
l0 <- glm(Reaction ~ Days, gaussian, ss, control = tight)
l1 <- lmer(Reaction ~ Days + (1 | Subject), ss, REML = FALSE)
l2 <- lmer(Reaction ~ Days + (Days || Subject), ss, REML = FALSE)
for (p in list(list("cbpp", g0, g1, 1), list("sleepstudy", l0, l1, 1),
               list("sleepstudy_2", l0, l2, 2))) {
  lr <- 2 * (as.numeric(logLik(p[[3]])) - as.numeric(logLik(p[[2]])))
  k <- p[[4]]  # chi-bar-squared: binomial(k, 1/2) weights on chi2_0..chi2_k
  pv <- sum(dbinom(1:k, k, 0.5) * pchisq(lr, 1:k, lower.tail = FALSE))
  add(paste0("lr_", p[[1]]), "stat", c("logLik0", "logLik1", "LR", "p_chibar"),
      c(as.numeric(logLik(p[[2]])), as.numeric(logLik(p[[3]])), lr, pv))
}
# Vuong (pscl::vuong), bioChemists
bc <- read.csv("tests/reference/count_models_data_biochemists.csv")
pois <- glm(art ~ ., poisson, bc)
zip <- zeroinfl(art ~ ., bc, dist = "poisson")
zinb <- zeroinfl(art ~ ., bc, dist = "negbin")
vu <- function(model, m1, m2) {
  txt <- capture.output(vuong(m1, m2))
  for (lab in c("Raw", "AIC-corrected", "BIC-corrected")) {
    line <- grep(paste0("^", lab, " "), txt, value = TRUE)
    add(model, "vuong", lab, as.numeric(strsplit(trimws(line), " +")[[1]][2]))
    pv <- sub(".*model[12] > model[12] +", "", line)
    add(model, "vuong_p", lab, as.numeric(pv))
  }
}
vu("vuong_pois_zip", pois, zip)
vu("vuong_zip_zinb", zip, zinb)
write.csv(do.call(rbind, out), "tests/reference/glm_conventions_results.csv",
          row.names = FALSE)
