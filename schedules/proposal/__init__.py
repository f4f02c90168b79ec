"""Plans to proposals: a plan document read against the catalog, every proposal with its evidence."""
