# Reference values for GLMs with a dispersion submodel (likelihax: lx.glm(...,
# dispformula=)), from glmmTMB. Run from tests/reference:
#   Rscript dispformula.R   (writes dispformula.csv)
# The data (dispformula_data.csv, 300 rows) were simulated once with numpy
# (seed 20261207): y1 Gaussian with log(sigma^2) linear in z; y2 gamma (log link)
# with log(1/shape) depending on z and f; y3 NB2 with log(alpha) linear in z.
# glmmTMB's dispersion coefficients are on its own scale (Gaussian: log sigma;
# Gamma: log shape; nbinom2: log theta), written here as they are; the test
# maps them to likelihax's log(phi) (log sigma^2, log(1/shape), log alpha).
suppressMessages(library(glmmTMB))
d <- read.csv("dispformula_data.csv")
fits <- list(
  gaussian = glmmTMB(y1 ~ x + f, dispformula = ~ z, family = gaussian, data = d),
  gamma = glmmTMB(y2 ~ x, dispformula = ~ z + f, family = Gamma(link = "log"), data = d),
  nbinom2 = glmmTMB(y3 ~ x, dispformula = ~ z, family = nbinom2, data = d)
)
rows <- list()
for (nm in names(fits)) {
  m <- fits[[nm]]
  s <- summary(m)$coefficients
  for (part in c("cond", "disp")) {
    tab <- s[[part]]
    rows[[length(rows) + 1]] <- data.frame(model = nm, part = part, term = rownames(tab),
                                           estimate = tab[, 1], se = tab[, 2])
  }
  rows[[length(rows) + 1]] <- data.frame(model = nm, part = "loglik", term = "",
                                         estimate = as.numeric(logLik(m)), se = NA)
}
out <- do.call(rbind, rows)
write.csv(out, "dispformula.csv", row.names = FALSE)
print(out, digits = 10)
