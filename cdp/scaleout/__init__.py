"""The scale-out runner: a relay (identity, in log order) and faust-streaming workers (projections, by customer) over Kafka."""
