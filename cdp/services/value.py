"""Predicted value for every door: fit BG/NBD + Gamma-Gamma on the whole customer base and store the
model and each customer's predictions (``fit``), show one customer's prediction with its inputs and
model (``explain``), and forecast a segment's purchases and revenue over a horizon (``forecast``).

Fitting crosses customers, so it is a batch over the warehouse's purchase facts as of an explicit
time (the data's latest event time by default), never part of the per-customer projections. The
model is stored in ``value_models`` under a version derived from its as-of time, parameters and
settings; predictions are recomputed from it, so refitting the same facts reproduces the numbers.
See README "Predictions".
"""

from datetime import UTC, datetime
from typing import Any

import numpy as np

from cdp.customers import Customers
from cdp.errors import CdpError
from cdp.platform import Platform
from cdp.queries import current_customers_sql
from cdp.segments.evaluate import compiled, data_as_of
from cdp.services import Caller, NotFound
from cdp.services.audited import audited
from cdp.services.segments import SegmentService, Subject
from projections.currency import CurrencyRules
from projections.predictive import model as models
from projections.predictive.bgnbd import BgNbd
from projections.predictive.gamma_gamma import GammaGamma
from projections.predictive.model import Facts, Model
from projections.predictive.optimise import FitError
from projections.tables import customer_predictions, events, value_models
from schemas.payloads.sales import PURCHASE_EVENT_TYPES

READ, WRITE = "profiles:read", "admin"
MAX_HORIZON_DAYS = 3650
INSERT_BATCH = 100_000


class ValueService:
    def __init__(self, platform: Platform, caller: Caller):
        self.platform, self.caller = platform, caller
        self.warehouse = platform.warehouse
        self.db = platform.warehouse.database

    def fit(self, as_of: datetime | None = None) -> dict[str, Any]:
        """Fits the models on purchases up to ``as_of``, stores the model and every buyer's predictions."""
        with audited(self.platform.audit, self.caller, "value.fit", "value_models") as detail:
            self.caller.require(WRITE)
            when = as_of or data_as_of(self.warehouse)
            ids, facts = self.facts(when)
            rules = self.platform.settings.value
            if len(ids) < rules.predictions.min_customers:
                raise CdpError(f"as_of: {len(ids):,} customers had a purchase by {when.isoformat()}; a fit needs "
                               f"value.predictions.min_customers = {rules.predictions.min_customers}")
            try:
                settings = rules.predictions
                fitted = models.fit(facts, _ms(when), settings.horizon_days, settings.annual_discount_rate, rules.clv_gross_margin, settings.purchase_model)
            except FitError as e:
                raise CdpError(f"as_of: {e}") from None
            self._store(fitted, ids, facts)
            detail["target"] = fitted.version
            return self._model_row(fitted, facts)

    def explain(self, identifier: str) -> dict[str, Any]:
        """One customer's prediction: its inputs, its outputs and the model they come from."""
        with audited(self.platform.audit, self.caller, "value.explain", identifier[:200]) as detail:
            self.caller.require(READ)
            found = Customers(self.warehouse).resolve_all(identifier)
            if not found:
                raise NotFound(f"no customer has the identifier {identifier[:200]!r}")
            detail["target"] = found[0]
            rows = self.warehouse.query(
                f"SELECT * EXCEPT (version, is_deleted) FROM `{self.db}`.`{customer_predictions.TABLE.name}` FINAL "
                "WHERE customer_id = {id:String} AND NOT is_deleted", {"id": found[0]})
            if not rows:
                raise NotFound(f"no prediction for {found[0]}: it had no purchase by the last fit, or `cdp value fit` has not run")
            model = self._stored_model(rows[0]["model_version"])
            return {**rows[0], "model": model}

    def forecast(self, subject: Subject, horizon_days: int) -> dict[str, Any]:
        """Expected purchases and revenue of a segment's members over ``horizon_days`` from the latest
        model's as-of time, with the expected number of them still active (sum of P(alive))."""
        with audited(self.platform.audit, self.caller, "value.forecast", str(subject)[:200] if isinstance(subject, str) else "definition") as detail:
            self.caller.require("segments:read")
            if not 1 <= horizon_days <= MAX_HORIZON_DAYS:
                raise CdpError(f"horizon_days: expected 1 to {MAX_HORIZON_DAYS}, got {horizon_days}")
            segment = SegmentService(self.platform, self.caller).resolve(subject, detail)
            members = compiled(self.warehouse, segment)
            rows = self.warehouse.query(
                f"SELECT model_version, frequency, recency_days, age_days, average_order FROM `{self.db}`.`{customer_predictions.TABLE.name}` FINAL "
                f"WHERE NOT is_deleted AND customer_id IN (SELECT p.customer_id {members.from_sql} WHERE {members.where_sql})", members.params)
            latest = self._latest_model()
            if latest is None:
                raise NotFound("no fitted model: run `cdp value fit` first")
            facts = Facts(*(np.array([r[c] for r in rows], dtype=float) for c in ("frequency", "recency_days", "age_days", "average_order")))
            predicted = models.predict(latest, facts, horizon_days) if rows else {k: np.zeros(0) for k in ("p_alive", "expected_purchases", "expected_revenue")}
            return {
                "segment": segment.name,
                "customers_with_purchases": len(rows),
                "model_version": latest.version,
                "as_of": _time(latest.as_of_ms),
                "horizon_days": horizon_days,
                "expected_purchases": round(float(predicted["expected_purchases"].sum()), 2),
                "expected_revenue": round(float(predicted["expected_revenue"].sum()), 2),
                "expected_active_customers": round(float(predicted["p_alive"].sum()), 2),
            }

    def facts(self, as_of: datetime) -> tuple[list[str], Facts]:
        """Every customer with a purchase by ``as_of`` (merged customers counted for their survivor),
        by purchase day as the models count them: several purchases on one day are one repeat
        purchase of their total amount. Refunds are not subtracted. Amounts are in the reporting
        currency, as the profile converts them (``_converted_sql``). The average is rounded to 6
        decimals: the warehouse sums in any order, and the fit must see the same inputs every time."""
        types = ", ".join(f"'{t}'" for t in sorted(PURCHASE_EVENT_TYPES))
        purchases = (f"(SELECT customer_id, occurred_at, JSONExtractFloat(properties, 'amount') AS amount, JSONExtractString(properties, 'currency') AS currency "
                     f"FROM `{self.db}`.`{events.TABLE.name}` FINAL WHERE event_type IN ({types}) AND occurred_at <= {{as_of:DateTime64(3, 'UTC')}})")
        converted, rate_params = _converted_sql(purchases, self.platform.rules.profile.currency)
        source = current_customers_sql(self.db, converted, "occurred_at, amount")
        rows = self.warehouse.query(
            "SELECT customer_id, toUInt32(count() - 1) AS x, toUInt32(dateDiff('day', min(day), max(day))) AS t_x, "
            "toUInt32(dateDiff('day', min(day), toDate({as_of:DateTime64(3, 'UTC')}))) AS T, "
            "round(if(count() > 1, (sum(spent) - argMin(spent, day)) / (count() - 1), 0), 6) AS m "
            f"FROM (SELECT customer_id, toDate(occurred_at) AS day, sum(amount) AS spent FROM {source} GROUP BY customer_id, day) "
            "GROUP BY customer_id ORDER BY customer_id",
            {"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], **rate_params})  # with its milliseconds: a datetime parameter loses them, and the latest purchase with them
        facts = Facts(*(np.array([r[c] for r in rows], dtype=float) for c in ("x", "t_x", "T", "m")))
        return [r["customer_id"] for r in rows], facts

    def _store(self, fitted: Model, ids: list[str], facts: Facts) -> None:
        """The model, then every buyer's row (version = the as-of time, so the latest fit wins);
        customers predicted before and no longer among the buyers (merged away) are retracted."""
        self.warehouse.insert(value_models.TABLE.name, [self._model_row(fitted, facts)])
        predicted = models.predict(fitted, facts)
        common = {"model_version": fitted.version, "as_of": _time(fitted.as_of_ms), "horizon_days": fitted.horizon_days, "version": fitted.as_of_ms, "is_deleted": 0}
        inputs = {"frequency": facts.x, "recency_days": facts.t_x, "age_days": facts.T}
        rows = [
            {"customer_id": c, **common, **{k: int(v[i]) for k, v in inputs.items()}, "average_order": round(float(facts.m[i]), 6),
             **{k: round(float(v[i]), 6) for k, v in predicted.items()}}
            for i, c in enumerate(ids)
        ]
        for start in range(0, len(rows), INSERT_BATCH):
            self.warehouse.insert(customer_predictions.TABLE.name, rows[start:start + INSERT_BATCH])
        known = {r["customer_id"] for r in self.warehouse.query(
            f"SELECT customer_id FROM `{self.db}`.`{customer_predictions.TABLE.name}` FINAL WHERE NOT is_deleted")}
        gone = sorted(known - set(ids))
        if gone:
            self.warehouse.insert(customer_predictions.TABLE.name, [
                {"customer_id": c, **common, "frequency": 0, "recency_days": 0, "age_days": 0, "average_order": 0.0, "p_alive": 0.0,
                 "expected_purchases": 0.0, "expected_revenue": 0.0, "predicted_clv": 0.0, "is_deleted": 1} for c in gone])

    def _model_row(self, fitted: Model, facts: Facts) -> dict[str, Any]:
        return {"model_version": fitted.version, "as_of": _time(fitted.as_of_ms), "purchase_model": fitted.purchase_model, "customers": len(facts.x),
                "repeat_customers": int((facts.x > 0).sum()), **vars(fitted.purchases), **vars(fitted.spend),
                "horizon_days": fitted.horizon_days, "annual_discount_rate": fitted.annual_discount_rate, "gross_margin": fitted.gross_margin}

    def _stored_model(self, version: str) -> dict[str, Any]:
        rows = self.warehouse.query(f"SELECT * FROM `{self.db}`.`{value_models.TABLE.name}` FINAL WHERE model_version = {{v:String}}", {"v": version})
        if not rows:
            raise NotFound(f"model {version} is not in value_models")
        return rows[0]

    def _latest_model(self) -> Model | None:
        rows = self.warehouse.query(f"SELECT *, toUnixTimestamp64Milli(as_of) AS as_of_ms FROM `{self.db}`.`{value_models.TABLE.name}` FINAL "
                                    "ORDER BY as_of DESC, model_version LIMIT 1")
        if not rows:
            return None
        r = rows[0]
        return Model(r["as_of_ms"], r["purchase_model"], BgNbd(r["r"], r["alpha"], r["a"], r["b"]), GammaGamma(r["p"], r["q"], r["gamma"]),
                     r["horizon_days"], r["annual_discount_rate"], r["gross_margin"])


def _ms(when: datetime) -> int:
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _converted_sql(purchases: str, currency: CurrencyRules) -> tuple[str, dict[str, Any]]:
    """``purchases`` (customer_id, occurred_at, amount, currency) with each amount in the reporting
    currency at the latest rate of its currency dated on or before its day, as the profile converts
    it (``projections.currency``): an ASOF join on the rates, passed as parameters. A purchase with
    no rate counts with no amount; without a reporting currency amounts are taken as sent."""
    if currency.reporting is None:
        return purchases, {}
    rates = [(code, day, rate) for code, (days, by_day) in sorted(currency.days.items()) for day, rate in zip(days, by_day, strict=True)]
    day = "dateDiff('day', toDate('1970-01-01'), toDate(p.occurred_at))"
    table = ("(SELECT tupleElement(t, 1) AS currency, tupleElement(t, 2) AS day, tupleElement(t, 3) AS rate "
             "FROM (SELECT arrayJoin(arrayZip({rate_currencies:Array(String)}, {rate_days:Array(Int64)}, {rate_values:Array(Float64)})) AS t))")
    sql = (f"(SELECT p.customer_id AS customer_id, p.occurred_at AS occurred_at, "
           f"round(p.amount * if(p.currency = {{reporting:String}}, 1, r.rate), 6) AS amount "
           f"FROM (SELECT *, {day} AS day FROM {purchases} AS p) AS p ASOF LEFT JOIN {table} AS r ON p.currency = r.currency AND p.day >= r.day)")
    return sql, {"reporting": currency.reporting, "rate_currencies": [r[0] for r in rates], "rate_days": [r[1] for r in rates], "rate_values": [r[2] for r in rates]}
