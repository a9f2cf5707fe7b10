"""``customer_satisfaction``: NPS, CSAT, CSI and feedback sentiment per customer."""

from projections.satisfaction import Satisfaction
from projections.tables.table import Column, customer_table, fields_of

TABLE = customer_table(
    "customer_satisfaction",
    "Satisfaction per customer (docs/domain.md §8). Overall figures per period come from survey_answers.",
    (
        Column("nps_answers", "UInt32", "NPS answers given."),
        Column("last_nps", "Nullable(UInt8)", "Latest NPS answer (0-10)."),
        Column("nps_category", "LowCardinality(String)", "promoter (9-10), passive (7-8) or detractor (0-6), from the latest answer."),
        Column("nps", "Nullable(Float64)", "The customer's own NPS over all answers: % promoter answers − % detractor answers."),
        Column("csat_answers", "UInt32", "CSAT answers given."),
        Column("csat_average", "Nullable(Float64)", "Average CSAT (1-5)."),
        Column("csat_satisfied_pct", "Nullable(Float64)", "Share of CSAT answers of 4-5, in %."),
        Column("csi_answers", "UInt32", "CSI answers given."),
        Column("last_csi", "Nullable(Float64)", "Latest CSI (weighted factor average, 0-10)."),
        Column("csi_average", "Nullable(Float64)", "Average CSI."),
        Column("texts_positive", "UInt32", "Free texts (feedback, survey comments, social texts) labelled positive."),
        Column("texts_neutral", "UInt32", "Free texts labelled neutral."),
        Column("texts_negative", "UInt32", "Free texts labelled negative."),
        Column("last_sentiment", "LowCardinality(String)", "Label of the latest free text."),
        Column("last_sentiment_terms", "Array(String)", "Lexicon terms that decided it (explanation)."),
    ),
)


def row(customer_id: str, s: Satisfaction) -> dict:
    return {"customer_id": customer_id, **fields_of(s)}
