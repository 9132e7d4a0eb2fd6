"""The OpenAPI 3.1 components of /api/v1: every answer's schema, built from the same enums, fields and metric keys the
API answers with."""

from __future__ import annotations

import csv
from enum import StrEnum
from typing import Any, get_args

from app.params import MAX_PAGE
from importers.load import MEASURED_FIELDS
from importers.pipeline import Status
from importers.review import WARNING_CODES
from importers.values import MEASUREMENT_SPECS
from trials.factors import DATA
from trials.metrics import METRIC_KEYS, METRIC_UNITS, Activity
from trials.models import (
    BaselineKind,
    BatchStatus,
    EngineStandard,
    EquipmentClass,
    HydrogenPathway,
    JobStatus,
    Technology,
    TrialStatus,
    UnitRole,
    Visibility,
)

Schema = dict[str, Any]

#: Measurements per page when the client does not say, and the most one page may hold.
PER_PAGE_DEFAULT = 100
PER_PAGE_MAX = 1000
#: The unit of every measured quantity, as the importer converts it (counts and notes have none).
MEASUREMENT_UNITS: dict[str, str] = {
    name: unit for name in MEASURED_FIELDS if (unit := MEASUREMENT_SPECS[name].unit) is not None
}
#: What each error status means on this API; every operation lists those that apply to it.
ERRORS: dict[int, str] = {
    400: "A parameter is missing or malformed (the message starts with its name), the address or a parameter holds"
    " a NUL character or half a surrogate pair, or a cookie session lacks CSRF",
    401: "Not signed in, or the bearer token is unknown, revoked or belongs to a deactivated user",
    403: "The signed-in role may not do this",
    404: "No such trial, or one outside the viewer's scope: both answers are byte for byte the same",
    413: "The upload is larger than the server accepts",
    500: "An unexpected error; the details are in the server's log, never in the answer",
}


def shipped_ports() -> list[str]:
    """The partner ports every database is seeded with (no route adds one), so the document can offer exactly them."""
    with (DATA / "ports.csv").open(newline="", encoding="utf-8") as handle:
        return [row["locode"] for row in csv.DictReader(handle)]


def enum_values(kind: type[StrEnum]) -> list[str]:
    """List an enum's stored values, so the document offers exactly what the database holds."""
    return [member.value for member in kind]


def _nullable(kind: str, description: str | None = None, **extra: Any) -> Schema:
    """Describe an optional value: missing figures are null, never 0."""
    schema: Schema = {"type": [kind, "null"], **extra}
    if description is not None:
        schema["description"] = description
    return schema


def _closed(description: str, properties: dict[str, Schema]) -> Schema:
    """Describe an object whose every property is always present and nothing else, so tests catch any drift."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def ref(name: str) -> Schema:
    """Point at a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _items(name: str, description: str) -> Schema:
    """Describe a list answer: {"items": [...]}, leaving room for paging fields later."""
    return _closed(description, {"items": {"type": "array", "items": ref(name)}})


def _measured(name: str) -> Schema:
    """Describe one measured field with the unit the importer stored it in."""
    if MEASUREMENT_SPECS[name].kind == "text":
        return _nullable("string")
    return _nullable("number", MEASUREMENT_UNITS.get(name, "count"))


DATE: Schema = {"type": "string", "format": "date"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time", "description": "UTC"}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "What went wrong, for people; a bad parameter's name starts the message",
        "properties": {
            "error": {"type": "string"},
            "status": {"type": "integer", "description": "the HTTP status again"},
        },
        "required": ["error", "status"],
        "additionalProperties": False,
    },
    "Port": _closed(
        "A partner port; ports are reference data every viewer sees",
        {
            "locode": {"type": "string", "description": "UN/LOCODE"},
            "name": {"type": "string"},
            "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
            "grid_region": {"type": "string", "description": "Sets the port's grid emission factor"},
            "timezone": {"type": "string", "description": "IANA time zone"},
            "lat": {"type": "number", "description": "degrees north"},
            "lon": {"type": "number", "description": "degrees east"},
        },
    ),
    "Trial": _closed(
        "A trial: units of one technology in one equipment class at one port, with its declared baseline",
        {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "port_locode": {"type": "string", "description": "UN/LOCODE"},
            "terminal": _nullable("string"),
            "equipment_class": {"enum": enum_values(EquipmentClass)},
            "technology": {"enum": enum_values(Technology)},
            "units_planned": _nullable("integer"),
            "start_date": DATE,
            "end_date": _nullable("string", "last day of the trial, inclusive", format="date"),
            "status": {"enum": enum_values(TrialStatus)},
            "vendor": _nullable("string"),
            "model": _nullable("string"),
            "funding": _nullable("string"),
            "baseline_kind": {
                "enum": enum_values(BaselineKind),
                "description": "what the trial is compared against; none: no baseline, no avoided figures",
            },
            "baseline_rate": _nullable(
                "number", "declared baseline (diesel, or kWh for an electric baseline) per unit of work, > 0"
            ),
            "baseline_unit": _nullable("string", "unit of baseline_rate, e.g. L/h, gal/mi, L/move, kWh/move"),
            "baseline_source": _nullable("string"),
            "rated_power_kw": _nullable("number", "kW, of the diesel machine replaced"),
            "load_factor": _nullable("number", "fraction of rated power; overrides the class default"),
            "market_factor_g_per_kwh": _nullable("number", "g CO2e/kWh, market-based grid factor"),
            "market_factor_source": _nullable("string"),
            "hydrogen_pathway": {
                "enum": [*enum_values(HydrogenPathway), None],
                "description": "how the hydrogen was made; null: grey assumed",
            },
            "hydrogen_factor_kg_per_kg": _nullable(
                "number", "kg CO2e per kg of hydrogen, declared with the pathway 'declared'", exclusiveMinimum=0
            ),
            "hydrogen_factor_source": _nullable("string"),
            "baseline_engine": {
                "enum": [*enum_values(EngineStandard), None],
                "description": "emission standard of the diesel engine replaced; null: the class default",
            },
            "visibility": {"enum": enum_values(Visibility)},
            "notes": _nullable("string"),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    ),
    "Measurement": _closed(
        "One unit's record over [period_start, period_end), with where it came from",
        {
            "unit_id": {"type": "string", "description": "the unit's own id (serial, VIN, hull number)"},
            "role": {"enum": enum_values(UnitRole)},
            "period_start": DATE,
            "period_end": {**DATE, "description": "exclusive"},
            **{name: _measured(name) for name in MEASURED_FIELDS},
            "provenance": _closed(
                "The import batch, sheet and row the record came from",
                {
                    "import_batch_id": _nullable("integer"),
                    "source_sheet": _nullable("string"),
                    "source_row": _nullable("integer", "row number as the spreadsheet program shows it"),
                },
            ),
        },
    ),
    "MeasurementPage": _closed(
        "One page of a trial's measurements, oldest first",
        {
            "items": {"type": "array", "items": ref("Measurement")},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX},
            "total": {"type": "integer", "minimum": 0, "description": "measurements of the trial, on every page"},
            "units": _closed("Unit of each measured quantity", {k: {"const": v} for k, v in MEASUREMENT_UNITS.items()}),
        },
    ),
    "Metrics": _closed(
        "Every METHODOLOGY.md §3 metric of one trial, with its unit, baseline and factor set",
        {
            "trial": {"type": "string"},
            "factor_set": {"type": "string", "description": "the emission factor set used, e.g. ZE-2024"},
            "basis": {"enum": ["location", "market"]},
            "baseline": {
                "oneOf": [
                    {"type": "null"},
                    _closed(
                        "What the trial is compared against, and how it was found (METHODOLOGY.md §7.1)",
                        {
                            "kind": {"enum": ["diesel", "electric"]},
                            "method": {"enum": ["measured", "declared"]},
                            "rate": {"type": "number", "description": "litres (diesel) or kWh (electric) per activity"},
                            "rate_unit": {"type": "string", "description": "e.g. L/hour, kWh/move"},
                            "litres_per_activity": _nullable("number", "L per activity unit; null for electric"),
                            "activity": {"enum": enum_values(Activity)},
                            "thin": {
                                "type": "boolean",
                                "description": "the measured baseline rests on under 30 unit-days",
                            },
                        },
                    ),
                ]
            },
            "metrics": _closed(
                "Value by canonical key; null when its inputs are missing (shown n/a), never 0",
                {
                    **{key: _nullable("number", unit) for key, unit in METRIC_UNITS.items()},
                    "last_data_date": _nullable("string", "latest day with trial data, up to as-of", format="date"),
                },
            ),
            "units": _closed("Unit by canonical key", {key: {"const": unit} for key, unit in METRIC_UNITS.items()}),
            "flags": {
                "type": "array",
                "items": {"enum": list(METRIC_KEYS)},
                "description": "keys whose value deserves a second look (reported vs computed beyond ±10 %)",
            },
            "checks": {
                "type": "array",
                "description": "trust checks of METHODOLOGY.md §7.5 that fired, most serious first, in plain words",
                "items": _closed(
                    "One trust check",
                    {
                        "code": {"type": "string", "description": "e.g. no_baseline, stale, unpaired_rows"},
                        "level": {"enum": ["exclude", "warn", "info"]},
                        "message": {"type": "string"},
                    },
                ),
            },
            "factor_years": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "for each year with electricity or hydrogen, the year whose grid factor it took",
            },
            "hydrogen_factor_kg_per_kg": _nullable("number", "kg CO2e per kg of the trial's hydrogen, if it has any"),
            "clean_hydrogen": {
                "type": "boolean",
                "description": "its hydrogen meets the US clean-hydrogen threshold (4.0 kg CO2e/kg or less)",
            },
        },
    ),
    "Problem": _closed(
        "One thing wrong with an uploaded file, placed as precisely as the file allows",
        {
            "sheet": _nullable("string"),
            "row": _nullable("integer"),
            "column": _nullable("string"),
            "value": _nullable("string"),
            "message": {"type": "string"},
        },
    ),
    "ProblemGroup": _closed(
        "Every problem of one kind in one column of one sheet",
        {
            "sheet": _nullable("string"),
            "column": _nullable("string"),
            "message": {"type": "string"},
            "count": {"type": "integer", "minimum": 1, "description": "how many cells have this problem"},
            "rows": {"type": "array", "items": {"type": "integer"}, "description": "the first rows, at most 10"},
            "more_rows": {"type": "integer", "minimum": 0},
            "values": {"type": "array", "items": {"type": "string"}, "description": "the first distinct values"},
            "more_values": {"type": "integer", "minimum": 0},
            "suggestions": {
                "type": "array",
                "description": "did you mean: a known value close to one written (only trials the viewer may see)",
                "items": _closed(
                    "A known value close to one written",
                    {"value": {"type": "string"}, "suggestion": {"type": "string"}},
                ),
            },
            "advice": _nullable("string", "how to fix it, e.g. the form field that states the order of dates"),
        },
    ),
    "ImportResult": _closed(
        "The outcome of an import, as `zetrials import --json` prints it",
        {
            "status": {"enum": list(get_args(Status))},
            "batch": _nullable("integer", "the import batch; null for rejected and dry-run imports"),
            "created": {"type": "integer", "minimum": 0},
            "updated": {"type": "integer", "minimum": 0},
            "unchanged": {"type": "integer", "minimum": 0},
            "skipped": {"type": "integer", "minimum": 0},
            "problems": {"type": "array", "items": ref("Problem"), "description": "every problem, one per cell"},
            "problem_groups": {
                "type": "array",
                "items": ref("ProblemGroup"),
                "description": "the same problems for people: one per sheet, column and kind of problem",
            },
            "review": {
                "oneOf": [{"type": "null"}, ref("ImportReview")],
                "description": "what the file brings per unit and what to look at before confirming; null when the"
                " file was not read (a duplicate, or unreadable)",
            },
        },
    ),
    "ImportReview": _closed(
        "What a file brings in, per unit, and warnings that do not block the import but should be read first",
        {
            "units": {"type": "array", "items": ref("ReviewedUnit")},
            "warnings": {
                "type": "array",
                "items": _closed(
                    "Something to look at before confirming",
                    {
                        "code": {"enum": list(WARNING_CODES)},
                        "message": {"type": "string"},
                        "trial": _nullable("string", "the trial it concerns, if one"),
                    },
                ),
            },
            "profile": _nullable("string", "the import profile applied (saved column and value mappings), by name"),
        },
    ),
    "ReviewedUnit": _closed(
        "One unit's rows in the file: role, days, totals, and energy per unit of the class's primary work",
        {
            "trial": {"type": "string"},
            "unit": {"type": "string"},
            "role": {"enum": ["trial", "baseline"]},
            "role_label": {"type": "string"},
            "new": {"type": "boolean", "description": "the unit is not in the database yet"},
            "rows": {"type": "integer", "minimum": 1},
            "first_day": {"type": "string", "format": "date"},
            "last_day": {"type": "string", "format": "date", "description": "inclusive"},
            "totals": {"type": "array", "items": ref("LabelledFigure")},
            "rates": {"type": "array", "items": ref("LabelledFigure")},
        },
    ),
    "LabelledFigure": _closed(
        "A figure with its field key, its label and unit for people",
        {
            "field": {"type": "string"},
            "label": {"type": "string"},
            "unit": {"type": "string"},
            "value": {"type": "number"},
        },
    ),
    "ImportBatch": _closed(
        "A file imported once, with what it did",
        {
            "id": {"type": "integer"},
            "sha256": {"type": "string", "description": "of the file's bytes"},
            "filename": {"type": "string"},
            "user_id": _nullable("integer", "who imported it; null for the command line"),
            "created_at": TIMESTAMP,
            "status": {"enum": enum_values(BatchStatus)},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "skipped": {"type": "integer"},
        },
    ),
    "PortList": _items("Port", "Every partner port, by UN/LOCODE"),
    "TrialList": _items("Trial", "The trials the viewer may see, by port then code"),
    "ImportBatchList": _items("ImportBatch", "Import batches the viewer may see, newest first (at most 200)"),
    "ImportJob": _closed(
        "An import queued with ?async=true: where it stands, and the import's answer once done",
        {
            "id": {"type": "string", "description": "the job's unguessable id"},
            "url": {"type": "string", "description": "where to follow it: GET this address"},
            "status": {"enum": enum_values(JobStatus), "description": "queued, running, done or failed"},
            "filename": {"type": "string"},
            "dry_run": {"type": "boolean"},
            "rows_done": {"type": "integer", "minimum": 0, "description": "rows read so far"},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": _nullable("string", "when a worker took it", format="date-time"),
            "finished_at": _nullable("string", "when it ended", format="date-time"),
            "error": _nullable("string", "why a failed job stopped, e.g. its worker stopped: upload the file again"),
            "result": {
                "oneOf": [{"type": "null"}, ref("ImportResult")],
                "description": "the answer a synchronous import gives, once the job is done",
            },
        },
    ),
    "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths", "components"]},
}
