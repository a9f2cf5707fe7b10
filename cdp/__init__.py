"""The application: event store, runner, warehouse, CLI; wires schemas, ingestion and projections."""
