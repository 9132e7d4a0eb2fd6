"""The one registry of what people read: every metric labelled, every stored value in words, no key on a page."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient
from sqlmodel import Session

from tests.factories import make_measurement, make_trial, make_unit, make_user, shown_text, sign_in, trial_page
from trials.baselines import Activity
from trials.checks import Level
from trials.metrics import METRIC_KEYS, METRIC_UNITS
from trials.models import BaselineKind, EquipmentClass, HydrogenPathway, Role, Technology, TrialStatus
from trials.registry import FIELDS, METRICS, counted, in_words, label, noun


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
    text = shown_text(trial_page(client, "LGB-1"))  # the one trial page, the dashboard's
    assert "Energy per operating hour" in text and "yard tractor" in text and "battery electric" in text
    leaked = [key for key in [*METRIC_KEYS, "yard_tractor", "battery_electric"] if re.search(rf"\b{key}\b", text)]
    assert leaked == []


def test_every_formula_and_summary_reads_without_a_key() -> None:
    words = {key: metric.formula for key, metric in METRICS.items()}
    leaked = [(key, other) for key, text in words.items() for other in METRIC_KEYS if re.search(rf"\b{other}\b", text)]
    assert leaked == []
    assert all(metric.summary.endswith(".") and "_" not in metric.summary for metric in METRICS.values())
    assert METRICS["kwh_per_hour"].formula == "final energy ÷ Σ operating hours, on paired rows (those carrying both)"
    assert METRICS["availability_pct"].formula == "100 × (scheduled hours − downtime) ÷ scheduled hours"
    assert in_words("baseline_diesel_l − diesel_l") == "baseline diesel − diesel"  # the longer key read first


def test_a_per_activity_unit_names_the_class_activity() -> None:
    per_activity = METRICS["ghg_wtw_avoided_per_activity_kg"]
    assert per_activity.unit_for(EquipmentClass.yard_tractor) == "kg CO2e per operating hour"
    assert per_activity.unit_for(EquipmentClass.sts_crane) == "kg CO2e per move"
    assert per_activity.unit_for(None) == "kg CO2e per activity unit"
    assert METRICS["kwh_per_hour"].unit_for(EquipmentClass.yard_tractor) == "kWh/h"


def test_activities_and_check_levels_have_words() -> None:
    assert [label(activity, 2) for activity in Activity] == ["operating hours", "moves", "TEU", "km"]
    assert [label(level) for level in Level] == ["left out of totals", "warning", "note"]
    assert FIELDS["downtime_hours"] == ("Downtime", "h")


def test_a_label_starting_a_sentence_keeps_its_acronyms() -> None:
    assert label(EquipmentClass.rtg_crane, 2, capital=True) == "RTG cranes"  # never 'Rtg cranes'
    assert label(EquipmentClass.yard_tractor, capital=True) == "Yard tractor"
    assert (noun(1, "trial"), noun(17, "trial"), noun(0, "unit")) == ("trial", "trials", "units")
