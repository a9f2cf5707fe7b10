"""Activation: the outbound half of the platform (docs/activation.md). Actions derived from the log
are kept by id in the outbox, delivered by the dispatcher through destination plugins, and every
outcome is recorded as an event; audience sync turns a segment's changes into actions."""
