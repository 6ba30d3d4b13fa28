# Reference covariances for likelihax's named covariance conventions (R sandwich).
# Run from the repository root:  Rscript tests/reference/vcov_conventions.R
# Reads tests/reference/vcov_data_ships.csv, vcov_data_grunfeld.csv (written by
# export_vcov_conventions.py) and glm_data_spector.csv (export_glm_data.py).
# Writes tests/reference/vcov_conventions_r.csv: case, row, col, value (all
# entries of each matrix, 17 significant digits). Made with R 4.2 and sandwich
# 3.0-2 (Debian r-cran-sandwich).
suppressPackageStartupMessages(library(sandwich))

dir <- "tests/reference"
ships <- read.csv(file.path(dir, "vcov_data_ships.csv"))
grun <- read.csv(file.path(dir, "vcov_data_grunfeld.csv"))
spector <- read.csv(file.path(dir, "glm_data_spector.csv"))

# Estimates converged far below glm()'s default tolerance (1e-8 on the
# deviance), so that the covariances compare at 1e-8 and better.
tight <- glm.control(epsilon = 1e-15, maxit = 100)
rows <- list()
add <- function(case, V) {
  V <- as.matrix(V)
  g <- expand.grid(row = rownames(V), col = colnames(V), stringsAsFactors = FALSE)
  rows[[case]] <<- data.frame(case = case, row = g$row, col = g$col,
                              value = sprintf("%.17g", as.vector(V)))
}

# Poisson GLM (canonical link) on the ship-accident data.
pois <- glm(accident ~ yr_con + op_75_79, family = poisson, data = ships,
            control = tight)
for (type in c("HC0", "HC1", "HC2", "HC3")) {
  add(paste0("ships_vcovHC_", type), vcovHC(pois, type = type))
}
add("ships_vcovCL_ship", vcovCL(pois, cluster = ~ship))  # type HC0, G/(G-1)
add("ships_vcovCL_ship_HC1", vcovCL(pois, cluster = ~ship, type = "HC1"))
add("ships_vcovCL_2way", vcovCL(pois, cluster = ~ ship + yr_con))
add("ships_vcovCL_2way_HC1", vcovCL(pois, cluster = ~ ship + yr_con, type = "HC1"))
add("ships_vcovCL_2way_HC1_noadj",
    vcovCL(pois, cluster = ~ ship + yr_con, type = "HC1", cadjust = FALSE))
add("ships_NeweyWest_lag2",
    NeweyWest(pois, lag = 2, prewhite = FALSE, adjust = FALSE))
add("ships_NeweyWest_lag2_adjust",
    NeweyWest(pois, lag = 2, prewhite = FALSE, adjust = TRUE))
# Newey and West (1994)'s automatic lag (no prewhitening); the lag as a 1 x 1 matrix.
add("ships_NeweyWest_auto", NeweyWest(pois, prewhite = FALSE))
add("ships_bwNeweyWest", matrix(floor(bwNeweyWest(pois, prewhite = 0)), 1, 1,
                                dimnames = list("lag", "lag")))

# Logistic regression on Spector and Mazzeo's data.
logit <- glm(GRADE ~ GPA + TUCE + PSI, family = binomial, data = spector,
             control = tight)
for (type in c("HC0", "HC1", "HC2", "HC3")) {
  add(paste0("spector_vcovHC_", type), vcovHC(logit, type = type))
}
add("spector_NeweyWest_lag3",
    NeweyWest(logit, lag = 3, prewhite = FALSE, adjust = FALSE))
add("spector_NeweyWest_auto", NeweyWest(logit, prewhite = FALSE))
add("spector_bwNeweyWest", matrix(floor(bwNeweyWest(logit, prewhite = 0)), 1, 1,
                                  dimnames = list("lag", "lag")))

# Linear regression on the Grunfeld panel (10 firms, 20 years).
ols <- lm(invest ~ value + capital, data = grun)
for (type in c("HC2", "HC3")) {
  add(paste0("grunfeld_vcovHC_", type), vcovHC(ols, type = type))
}
add("grunfeld_NeweyWest_auto", NeweyWest(ols, prewhite = FALSE))
add("grunfeld_bwNeweyWest", matrix(floor(bwNeweyWest(ols, prewhite = 0)), 1, 1,
                                   dimnames = list("lag", "lag")))
add("grunfeld_vcovPL_lag4",
    vcovPL(ols, cluster = ~firm, order.by = ~year, lag = 4, adjust = FALSE))
add("grunfeld_vcovCL_2way_HC1_noadj",
    vcovCL(ols, cluster = ~ firm + year, type = "HC1", cadjust = FALSE))

out <- do.call(rbind, rows)
write.csv(out, file.path(dir, "vcov_conventions_r.csv"), row.names = FALSE,
          quote = FALSE)
