"""Tests of the reports: completion rules, ledger queries, workbook, charts, calendar feeds, CLI."""
