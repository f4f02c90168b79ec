"""The one place that formats reports: table, JSON, xlsx workbook, PNG charts and iCalendar feeds."""
