"""The OpenAPI 3.1 contract of /api/v1: its routes, parameters, sign-in methods and answers (schemas in
app.openapi_schemas)."""

from __future__ import annotations

from typing import Any

from app.auth import CSRF_COOKIE
from app.openapi_schemas import ERRORS as ERRORS
from app.openapi_schemas import MEASUREMENT_UNITS as MEASUREMENT_UNITS
from app.openapi_schemas import PER_PAGE_DEFAULT as PER_PAGE_DEFAULT
from app.openapi_schemas import PER_PAGE_MAX as PER_PAGE_MAX
from app.openapi_schemas import SCHEMAS, Schema, ref, shipped_ports
from app.openapi_schemas import enum_values as enum_values
from app.params import MAX_PAGE
from trials.models import EquipmentClass, Technology, TrialStatus


def _json(description: str, schema: Schema) -> Schema:
    """A response or request body of JSON with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(summary: str, ok: str, *errors: int, parameters: tuple[Schema, ...] = (), **more: Any) -> Schema:
    """One operation: 200 with its schema; 400 (any address may hold text no database takes), 401 and 500 always;
    and the errors that apply to it."""
    responses = {"200": _json("OK", ref(ok))}
    responses |= {str(code): _json(ERRORS[code], ref("Error")) for code in sorted({*errors, 400, 401, 500})}
    return {"summary": summary, "parameters": list(parameters), "responses": responses, **more}


def _query(name: str, description: str, schema: Schema) -> Schema:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


#: Text every database takes: no NUL (app.params answers 400). It also refuses half a surrogate pair, which UTF-8 text
#: cannot carry, so the pattern leaves it out (and schemathesis 4 mis-generates a class that names the range).
STORABLE: Schema = {"type": "string", "pattern": "^[^\\u0000]*$"}
CODE: Schema = {"name": "code", "in": "path", "required": True, "schema": STORABLE}
CSRF_HEADER: Schema = {
    "name": "X-CSRFToken",
    "in": "header",
    "required": False,
    "description": f"Needed with the session cookie (send the value of the {CSRF_COOKIE} cookie); not with a token",
    "schema": {"type": "string"},
}
#: How a yes/no field or parameter is written (exactly so; the API reads nothing else).
FLAG: Schema = {"enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}


def _optional_flag(description: str) -> Schema:
    """A yes/no form field; left empty, it is as if not sent."""
    return {"enum": [*FLAG["enum"], ""], "description": description}


UPLOAD: Schema = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "propertyNames": STORABLE,
                "additionalProperties": {**STORABLE, "description": "other fields are ignored"},
                "properties": {
                    "file": {
                        "type": "string",
                        "contentMediaType": "application/octet-stream",
                        "minLength": 1,
                        "description": "a spreadsheet (.xlsx, .xls, .xlsb, .ods) or .csv; empty or unreadable: 422",
                    },
                    "trial": {**STORABLE, "description": "trial code for a file with no trial column"},
                    "dry_run": _optional_flag("true: check everything, write nothing"),
                    "day_first": _optional_flag("true: read 03/04/2024 as 3 April; false: 4 March (unset: a problem)"),
                    "profile": {
                        **STORABLE,
                        "description": "read the file with this import profile's column and value mappings, by name "
                        "(unknown: 400); without it a profile saved for the file's headers applies by itself",
                    },
                },
            }
        }
    },
}


def document(*, session_cookie: str) -> Schema:
    """Describe every route, parameter, sign-in method and answer of /api/v1."""
    per_page = {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": PER_PAGE_DEFAULT}
    imports = _operation(
        "Import a workbook or csv: every row or none; the same bytes twice change nothing",
        "ImportResult",
        400,
        403,
        413,
        parameters=(CSRF_HEADER,),
        requestBody=UPLOAD,
    )
    imports["responses"]["422"] = _json(
        "Rejected (an empty, unreadable or invalid file): nothing was written; `problems` says why",
        ref("ImportResult"),
    )
    imports["parameters"].append(
        _query(
            "async",
            "true: queue the import as a job and answer 202 at once (for large files); false (default): import now",
            FLAG,
        )
    )
    imports["responses"]["202"] = _json("Queued (with ?async=true): follow the job at its `url`", ref("ImportJob"))
    imports["responses"]["429"] = _json(
        "With ?async=true: the user holds as many unfinished uploads as allowed; wait for one to finish",
        ref("Error"),
    )
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "ZE Trials API",
            "version": "1",
            "description": "The shared record of zero-emission port equipment pilots. Every answer is scoped to the"
            " signed-in viewer; quantities carry their units in their names, descriptions or a `units` map.",
        },
        "security": [{"bearerToken": []}, {"sessionCookie": []}],
        "paths": {
            "/api/v1/ports": {"get": _operation("List the partner ports", "PortList")},
            "/api/v1/trials": {
                "get": _operation(
                    "List the trials the viewer may see",
                    "TrialList",
                    400,
                    parameters=(
                        _query(
                            "port",
                            "UN/LOCODE of a partner port, as /api/v1/ports lists them; any other value, empty or in"
                            " lower case included, answers 400",
                            {"enum": shipped_ports()},
                        ),
                        _query("class", "equipment class", {"enum": enum_values(EquipmentClass)}),
                        _query("technology", "technology", {"enum": enum_values(Technology)}),
                        _query("status", "status", {"enum": enum_values(TrialStatus)}),
                    ),
                )
            },
            "/api/v1/trials/{code}": {"get": _operation("Show one trial", "Trial", 404, parameters=(CODE,))},
            "/api/v1/trials/{code}/measurements": {
                "get": _operation(
                    "Page through one trial's measurements",
                    "MeasurementPage",
                    400,
                    404,
                    parameters=(
                        CODE,
                        _query(
                            "page",
                            "page number",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                        ),
                        _query("per_page", "measurements per page", per_page),
                    ),
                )
            },
            "/api/v1/trials/{code}/metrics": {
                "get": _operation(
                    "Compute one trial's metrics (METHODOLOGY.md §3)",
                    "Metrics",
                    400,
                    404,
                    parameters=(
                        CODE,
                        _query("basis", "grid factor basis", {"enum": ["location", "market"], "default": "location"}),
                        _query(
                            "as_of",
                            "count data up to this day (default, and when empty: today, UTC)",
                            {"anyOf": [{"type": "string", "format": "date"}, {"const": ""}]},
                        ),
                    ),
                )
            },
            "/api/v1/imports": {
                "get": _operation("List import batches", "ImportBatchList"),
                "post": imports,
            },
            "/api/v1/imports/jobs/{job_id}": {
                "get": _operation(
                    "Follow an import job; only its submitter and admins may, anyone else gets 404",
                    "ImportJob",
                    403,
                    404,
                    parameters=({"name": "job_id", "in": "path", "required": True, "schema": STORABLE},),
                )
            },
            "/api/v1/openapi.json": {"get": _operation("This document", "OpenApiDocument")},
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `zetrials tokens create EMAIL`",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": session_cookie,
                    "description": "The session of a browser signed in at /login; changes also need X-CSRFToken",
                },
            },
        },
    }
