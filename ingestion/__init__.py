"""Getting touchpoints in: validation, batch import, dead-letter records. Depends on schemas only."""
