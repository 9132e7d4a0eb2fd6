"""The one registry of what people read: every metric labelled, every stored value in words, no key on a page."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import make_measurement, make_trial, make_unit, make_user, sign_in
from trials.metrics import METRIC_KEYS, METRIC_UNITS
from trials.models import BaselineKind, EquipmentClass, HydrogenPathway, Role, Technology, TrialStatus
from trials.registry import METRICS, counted, label


def test_every_metric_has_a_label_unit_and_description() -> None:
    assert list(METRICS) == list(METRIC_KEYS)
    for key, metric in METRICS.items():
        assert metric.label and metric.description and metric.unit == METRIC_UNITS[key], key
        assert "_" not in metric.label, key


def test_every_stored_value_people_see_has_words() -> None:
    for kind in (EquipmentClass, Technology, TrialStatus, BaselineKind, HydrogenPathway):
        for member in kind:
            assert "_" not in label(member), member


def test_plurals_and_counts_read_as_english() -> None:
    assert (label(EquipmentClass.ferry, 2), label(EquipmentClass.ferry)) == ("ferries", "ferry")
    assert label(EquipmentClass.harbor_craft, 3) == "harbour craft"
    assert (counted(1, "trial"), counted(25, "trial"), counted(2, "unit")) == ("1 trial", "25 trials", "2 units")
    assert label("battery_electric") == "battery electric"  # a value read back as plain text


def test_numbers_are_written_with_their_metrics_decimals() -> None:
    assert METRICS["ghg_wtw_avoided_kg"].format(12345.678) == "12,346"
    assert METRICS["kwh_per_hour"].format(18.0) == "18.00"
    assert METRICS["data_coverage_pct"].format(None) == "n/a"


def test_the_trial_page_shows_labels_not_keys(client: FlaskClient, session: Session) -> None:
    trial = make_trial(session, code="LGB-1", units_planned=2, baseline_rate=6.6, baseline_unit="L/h")
    make_measurement(session, make_unit(session, trial), date(2024, 3, 1), operating_hours=10.0, energy_kwh=150.0)
    make_user(session, "exec@example.org", role=Role.executive)
    sign_in(client, "exec@example.org")
    page = client.get("/trials/LGB-1").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "Energy per operating hour" in text and "2 yard tractors, battery electric" in text
    leaked = [key for key in [*METRIC_KEYS, "yard_tractor", "battery_electric"] if re.search(rf"\b{key}\b", text)]
    assert leaked == []
