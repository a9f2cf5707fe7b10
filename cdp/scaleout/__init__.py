"""The scale-out runner: a relay (identity, in log order) and workers (projections, by customer) over Kafka."""
