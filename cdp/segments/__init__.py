"""Segments: declarative definitions of customer groups, compiled to parameterized ClickHouse SQL."""
