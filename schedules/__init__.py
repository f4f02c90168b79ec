"""Pure domain logic: roster types, the obligation catalog, the official calendar, the plan and time parsing."""
