"""The scheduler runtime: obligations become jobs, activities are materialised, reminders are delivered once."""
