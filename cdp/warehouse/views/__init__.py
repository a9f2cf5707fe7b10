"""Read-side objects for BI tools and analytics, built on the projections' tables: one module each."""
