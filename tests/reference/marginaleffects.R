# Reference values for likelihax's marginal effects (lx.slopes,
# lx.comparisons, lx.predict, lx.inference.datagrid): R's marginaleffects.
#
# Versions: R 4.2.2, marginaleffects 0.11.0 (installed from the source of its
# GitHub tag 0.11.0, commit 6f70f3008584dc511db4fe912166caec05290bbb, with
# `R CMD INSTALL`), insight 0.19.0, data.table 1.14.8, checkmate 2.1.0,
# numDeriv 2016.8-1.1, MASS 7.3-58.2, pscl 1.5.5.
#
# Run from the repository root:  Rscript tests/reference/marginaleffects.R
# Writes
#   tests/reference/marginaleffects_data_birthwt.csv      MASS::birthwt (189
#       births): low (birth weight < 2.5 kg), age, lwt (mother's weight, lb),
#       race ("white", "black", "other"), smoke (0/1)
#   tests/reference/marginaleffects_data_biochemists.csv  pscl::bioChemists
#       (915 PhD biochemists): art (articles), fem ("Men"/"Women"),
#       mar ("Married"/"Single"), kid5, phd, ment
#   tests/reference/marginaleffects_results.csv  columns model, quantity, term,
#       contrast, by, estimate, std_error (17 significant digits)
# The models are fitted to the data as read back from those CSV files (the
# numbers both R and Python see): string columns become factors with levels
# in alphabetical order (references "black", "Men", "Married"), as the
# Python formula's treatment coding orders them; every numeric column is
# double (datagrid() would round the mean of an integer column).
#   logit    glm(low ~ age * lwt + race + smoke, binomial)
#   poisson  glm(art ~ fem + mar + kid5 + phd * ment, poisson)
# Quantities (delta-method standard errors from vcov(), the inverse Fisher
# information; every prediction on the response scale):
#   coef              coefficients and their SEs, in R's order
#   avg_slopes        avg_slopes(m): dY/dX of each numeric covariate averaged
#                     over the rows; each factor level against the reference
#                     and a 0/1 covariate (smoke) as the contrast 1 - 0
#   avg_slopes_eyex   avg_slopes(m, slope = "eyex") of the numeric covariates
#   slopes_mean       slopes(m, newdata = "mean"): at one row with numeric
#                     covariates at their means, factors at their modes
#   avg_comparisons_difference, avg_comparisons_ratio
#                     avg_comparisons(m, variables = <factor>,
#                     comparison = "difference" / "ratio"): each level against
#                     the reference, per row, then averaged (race for logit,
#                     fem for poisson)
#   predictions_grid  predictions(m, newdata = datagrid(<factor> = levels),
#                     type = "response"); column by holds the level
#   avg_predictions   avg_predictions(m, by = <factor>, type = "response"):
#                     the mean prediction over the rows of each level (by)
#
# Numerical derivatives: marginaleffects 0.11 takes dY/dX as the forward
# difference (f(x + eps) - f(x)) / eps, whose truncation error is about
# eps * f''/(2 f') relative; eps here is 1e-7 times the covariate's range
# (about 1e-7 relative error; the default, 1e-4 times the range, leaves 1e-5
# to 1e-4). The delta method's Jacobian with respect to the coefficients is
# numDeriv's Richardson-extrapolated central difference (option
# marginaleffects_numDeriv, relative steps 0.1, 0.05, 0.025, 0.0125) instead of
# the default one-sided difference with step 1e-4 * min|coef|, accurate to
# only about 1e-5; the larger step keeps the rounding error of the inner
# forward difference (about 1e-16 / eps) from being magnified in the SEs of
# slopes.
suppressMessages({library(marginaleffects); library(MASS); library(pscl)})
options(marginaleffects_numDeriv = list(method = "Richardson",
                                        method.args = list(d = 0.1)))
dir <- "tests/reference"

bw <- with(MASS::birthwt, data.frame(low = low, age = age, lwt = lwt,
                                     race = c("white", "black", "other")[race],
                                     smoke = smoke))
write.csv(bw, file.path(dir, "marginaleffects_data_birthwt.csv"), row.names = FALSE)
bc <- with(pscl::bioChemists, data.frame(art = art, fem = as.character(fem),
                                         mar = as.character(mar), kid5 = kid5,
                                         phd = phd, ment = ment))
write.csv(bc, file.path(dir, "marginaleffects_data_biochemists.csv"), row.names = FALSE)

read <- function(name) {
  d <- read.csv(file.path(dir, name), stringsAsFactors = TRUE)
  for (v in names(d)) if (is.numeric(d[[v]])) d[[v]] <- as.numeric(d[[v]])
  d
}
bw <- read("marginaleffects_data_birthwt.csv")
bc <- read("marginaleffects_data_biochemists.csv")
tight <- glm.control(epsilon = 1e-14, maxit = 100)
models <- list(
  logit = list(fit = glm(low ~ age * lwt + race + smoke, binomial, bw, control = tight),
               data = bw, numeric = c("age", "lwt"), factor = "race"),
  poisson = list(fit = glm(art ~ fem + mar + kid5 + phd * ment, poisson, bc, control = tight),
                 data = bc, numeric = c("kid5", "phd", "ment"), factor = "fem"))

out <- list()
add <- function(model, quantity, term, contrast, by, estimate, std_error) {
  out[[length(out) + 1]] <<- data.frame(
    model = model, quantity = quantity, term = term, contrast = contrast, by = by,
    estimate = sprintf("%.17g", estimate), std_error = sprintf("%.17g", std_error))
}
add_me <- function(model, quantity, s, label = "dY/dX") {
  s <- as.data.frame(s)
  contrast <- if ("contrast" %in% names(s)) as.character(s$contrast) else label
  add(model, quantity, as.character(s$term), contrast, "", s$estimate, s$std.error)
}

for (name in names(models)) {
  m <- models[[name]]$fit
  d <- models[[name]]$data
  num <- models[[name]]$numeric
  fac <- models[[name]]$factor
  other <- setdiff(all.vars(formula(m))[-1], num)  # factors and 0/1 covariates
  eps <- function(v) 1e-7 * diff(range(d[[v]]))
  add(name, "coef", names(coef(m)), "", "", coef(m), sqrt(diag(vcov(m))))
  for (v in num) {
    add_me(name, "avg_slopes", avg_slopes(m, variables = v, eps = eps(v)))
    add_me(name, "avg_slopes_eyex", avg_slopes(m, variables = v, slope = "eyex", eps = eps(v)))
    add_me(name, "slopes_mean", slopes(m, variables = v, newdata = "mean", eps = eps(v)))
  }
  add_me(name, "avg_slopes", avg_slopes(m, variables = other))
  add_me(name, "slopes_mean", slopes(m, variables = other, newdata = "mean"))
  for (comparison in c("difference", "ratio")) {
    add_me(name, paste0("avg_comparisons_", comparison),
           avg_comparisons(m, variables = fac, comparison = comparison))
  }
  levs <- levels(d[[fac]])
  p <- predictions(m, newdata = do.call(datagrid, setNames(list(m, levs), c("model", fac))),
                   type = "response")
  add(name, "predictions_grid", fac, "", as.character(p[[fac]]), p$estimate, p$std.error)
  p <- avg_predictions(m, by = fac, type = "response")
  add(name, "avg_predictions", fac, "", as.character(p[[fac]]), p$estimate, p$std.error)
}
write.csv(do.call(rbind, out), file.path(dir, "marginaleffects_results.csv"),
          row.names = FALSE)
