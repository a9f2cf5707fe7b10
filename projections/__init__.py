"""Pure projections and their warehouse tables. Depends on schemas only."""
