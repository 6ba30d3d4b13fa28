# Reference values for REML fits of GLMMs (the fixed effects integrated out
# with the random effects by the Laplace approximation): glmmTMB REML = TRUE.
# Run from the repository root:  Rscript tests/reference/glmm_reml.R
# (R 4.2, glmmTMB 1.1.5.) Reads the data sets that mixed_terms.R wrote and
# writes tests/reference/glmm_reml_results.csv (model, software, kind, term,
# value), kinds as in mixed_terms.R:
#   cbpp_reml          cbind(incidence, size - incidence) ~ period + (1 | herd),
#                      binomial (period a factor, levels 1..4)
#   salamanders_reml   count ~ mined + (1 | site), nbinom2 (mined levels
#                      c("yes", "no"))
#   crossed_pois_reml  y ~ x + (1 | a) + (1 | b), Poisson
# "fixef": the fixed effects (modes of the joint Laplace problem); "se":
# sqrt(diag(vcov)), the fixed-effect block of the inverse joint precision of
# (b, beta) at the estimated variance parameters; "sd", "disp", "sigma";
# "stat" logLik = the REML log-likelihood (-REMLcrit / 2).
# glmmTMB fits are polished with three Newton steps on the outer parameters
# (optimHess of TMB's exact gradient) and refitted from there.
suppressMessages(library(glmmTMB))
dir <- "tests/reference"
out <- list()
add <- function(model, kind, term, value) {
  out[[length(out) + 1]] <<- data.frame(model = model, software = "glmmTMB",
    kind = kind, term = term, value = sprintf("%.15g", value))
}
rd <- function(name) read.csv(file.path(dir, paste0("mixed_terms_data_", name, ".csv")))
tctl <- glmmTMBControl(optCtrl = list(iter.max = 1e4, eval.max = 1e4))
tmb <- function(...) {
  f <- glmmTMB(..., control = tctl, REML = TRUE)
  p <- f$fit$par
  for (k in 1:3) p <- p - solve(optimHess(p, f$obj$fn, f$obj$gr), as.numeric(f$obj$gr(p)))
  st <- f$obj$env$parList(p)
  glmmTMB(..., control = tctl, REML = TRUE, start = st[!(names(st) %in% c("b", "beta"))])
}
record <- function(model, fit) {
  fe <- fixef(fit)$cond; se <- sqrt(diag(vcov(fit)$cond))
  add(model, "fixef", names(fe), fe)
  add(model, "se", names(fe), se)
  vcl <- VarCorr(fit)$cond
  for (g in names(vcl)) add(model, "sd", paste(g, names(attr(vcl[[g]], "stddev")), sep = ":"),
                            attr(vcl[[g]], "stddev"))
  fam <- family(fit)$family
  if (fam == "gaussian") add(model, "sigma", "sigma", sigma(fit))
  if (grepl("nbinom2", fam)) add(model, "disp", "theta", sigma(fit))
  add(model, "stat", c("logLik", "REMLcrit"), c(as.numeric(logLik(fit)), -2 * as.numeric(logLik(fit))))
  gr <- fit$obj$gr(fit$fit$par)
  cat(sprintf("%-18s crit %.12f max|grad| %s conv %d pdHess %s\n", model,
              -2 * as.numeric(logLik(fit)), format(max(abs(gr))), fit$fit$convergence,
              fit$sdr$pdHess))
}
cb <- rd("cbpp"); cb$period <- factor(cb$period); cb$herd <- factor(cb$herd)
record("cbpp_reml", tmb(cbind(incidence, size - incidence) ~ period + (1 | herd), cb,
                        family = binomial))
sal <- rd("salamanders"); sal$mined <- factor(sal$mined, levels = c("yes", "no"))
record("salamanders_reml", tmb(count ~ mined + (1 | site), sal, family = nbinom2))
cp <- rd("crossed_pois")
record("crossed_pois_reml", tmb(y ~ x + (1 | a) + (1 | b), cp, family = poisson))
write.csv(do.call(rbind, out), file.path(dir, "glmm_reml_results.csv"), row.names = FALSE)
