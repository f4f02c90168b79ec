"""Storage tests: the contract suite, migrations and roster import/export, on SQLite and PostgreSQL."""
