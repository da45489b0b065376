"""Group statistics, figures and reports."""
