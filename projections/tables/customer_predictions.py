"""``customer_predictions``: BG/NBD + Gamma-Gamma predictions per customer, with their inputs and model.

Written in batch by ``cdp value fit`` (``cdp.services.value``), never per event: the model is fitted on
the whole customer base. The row's ``version`` is the model's as-of time, so the latest fit wins."""

from projections.tables.table import Column, customer_table

TABLE = customer_table(
    "customer_predictions",
    "Predicted value (README \"Predictions\"): BG/NBD purchase counts and P(alive), Gamma-Gamma spend, discounted CLV, "
    "each with the inputs it came from and the model version (value_models). Computed in batch by `cdp value fit`; "
    "customers with at least one purchase by the model's as-of time.",
    (
        Column("model_version", "String", "The fitted model (value_models.model_version) these numbers come from."),
        Column("as_of", "DateTime64(3, 'UTC')", "Purchases up to this time were the inputs; the horizon starts here."),
        Column("frequency", "UInt32", "Input: repeat purchases (distinct purchase days after the first)."),
        Column("recency_days", "UInt32", "Input: days from the first to the last purchase day."),
        Column("age_days", "UInt32", "Input: days from the first purchase day to the as-of day."),
        Column("average_order", "Float64", "Input: mean amount per repeat purchase day (0 without repeat purchases)."),
        Column("horizon_days", "UInt32", "The horizon the expectations below cover."),
        Column("p_alive", "Float64", "Probability the customer is still buying (has not silently churned), 0-1."),
        Column("expected_purchases", "Float64", "Expected purchases within the horizon."),
        Column("expected_revenue", "Float64", "Expected revenue within the horizon (expected purchases × expected amount per purchase)."),
        Column("predicted_clv", "Float64", "Expected margin within the horizon, discounted monthly (value.predictions settings, value.clv_gross_margin)."),
    ),
)
