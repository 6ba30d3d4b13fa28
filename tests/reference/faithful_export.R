# Export R's datasets::faithful (272 eruptions of Old Faithful) for the
# Gaussian-mixture reference tests (tests/models/mixtures/test_mixtures.py).
# Run from the repository root:  Rscript tests/reference/faithful_export.R
write.csv(datasets::faithful, "tests/reference/faithful.csv", row.names = FALSE)
cat(R.version.string, "\n")
