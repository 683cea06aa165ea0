"""Reports: results in, HTML out (QuantStats tearsheets, comparison tables, the index page).
Generated files go to reports/out/ (git-ignored)."""
