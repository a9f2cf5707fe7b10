"""``value_models``: every fitted BG/NBD + Gamma-Gamma model, as versioned data.

The version is a hash of the inputs' as-of time, the parameters and the settings, so refitting the
same facts gives the same version, and predictions can be recomputed from a stored model."""

from projections.tables.table import Column, Table

TABLE = Table(
    name="value_models",
    doc="Fitted predictive value models (README \"Predictions\"): BG/NBD or MBG/NBD (r, alpha, a, b; time in days) and Gamma-Gamma "
    "(p, q, gamma), the as-of time of their inputs and the settings the predictions used.",
    columns=(
        Column("model_version", "String", "Hash of as_of, parameters and settings."),
        Column("as_of", "DateTime64(3, 'UTC')", "Purchases up to this time were fitted."),
        Column("purchase_model", "LowCardinality(String)", "bgnbd (BG/NBD) or mbgnbd (MBG/NBD): the purchase-count model r, alpha, a, b belong to."),
        Column("customers", "UInt64", "Customers with a purchase (BG/NBD's data)."),
        Column("repeat_customers", "UInt64", "Customers with a repeat purchase (Gamma-Gamma's data)."),
        Column("r", "Float64", "BG/NBD: shape of the purchase-rate Gamma."),
        Column("alpha", "Float64", "BG/NBD: scale of the purchase-rate Gamma (days)."),
        Column("a", "Float64", "BG/NBD: dropout Beta a."),
        Column("b", "Float64", "BG/NBD: dropout Beta b."),
        Column("p", "Float64", "Gamma-Gamma: shape of a purchase amount."),
        Column("q", "Float64", "Gamma-Gamma: shape of the customers' spend scale."),
        Column("gamma", "Float64", "Gamma-Gamma: scale of the customers' spend scale."),
        Column("horizon_days", "UInt32", "Horizon of the stored predictions."),
        Column("annual_discount_rate", "Float64", "Discount rate of the predicted CLV."),
        Column("gross_margin", "Float64", "Margin of the predicted CLV."),
    ),
    engine="ReplacingMergeTree",
    order_by="model_version",
)
