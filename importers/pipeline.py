"""One import from file to database: read, map, validate and load in one transaction, or change nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers.load import CHUNK_ROWS, Counts, Loader, MeasurementRecord, batch_trial_ids, upsert_trial
from importers.mapping import Row, SheetMapping, sheet_kind, split_header
from importers.problems import DATE_ORDER_ADVICE, Problem, ProblemGroup, group_problems
from importers.profiles import ImportMapping, header_key, profile_for_headers, remap, sampled, with_values
from importers.raw import RawSheet, RawWorkbook, UnreadableSheet
from importers.readers import read_file
from importers.review import Review, ReviewTally, known_units
from importers.sniff import DEFAULT_LIMITS, Limits
from importers.suggestions import Suggestions
from importers.validate import (
    MeasurementRows,
    RowReader,
    SheetReport,
    TrialTarget,
    totals_label,
    trial_values,
)
from trials import audit
from trials.db import lock_imports, read_session, write_session
from trials.models import BatchStatus, ImportBatch, Port, Trial, User, utcnow
from trials.rollups import refresh_rollups
from trials.scope import Scope

#: Beyond this many problems a file is surely the wrong one; the rest are counted, not listed.
MAX_PROBLEMS = 1000
#: How often (in rows) the progress callback is told how far the import has come.
PROGRESS_EVERY = 10_000

Status = Literal["imported", "duplicate", "rejected", "dry-run"]


@dataclass
class SheetSummary:
    """How one sheet was understood: its kind, header row, column mapping and row counts."""

    name: str
    kind: str
    header_row: int | None
    columns: list[dict[str, Any]] = field(default_factory=list)
    kept_as_notes: list[str] = field(default_factory=list)
    rows: int = 0
    ignored: str | None = None  # why a sheet was passed over
    headers: list[str] = field(default_factory=list)  # the header row as written, for mapping it in the review
    header_key: str | None = None  # the header set's fingerprint, which import profiles are saved under
    values: dict[str, list[str]] = field(default_factory=dict)  # first distinct values of columns one may map


@dataclass
class ImportResult:
    """The outcome of one import, as the CLI, the web page and the API report it."""

    status: Status
    filename: str
    batch: int | None = None
    counts: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)
    skipped_rows: list[tuple[str, int, str]] = field(default_factory=list)
    sheets: list[SheetSummary] = field(default_factory=list)
    suggest: Suggestions | None = field(default=None, repr=False)  # known values, for "did you mean ...?"
    review: Review | None = None  # per-unit totals and warnings, for a person to check before confirming
    mapping: ImportMapping | None = None  # the columns and values a person mapped, or a profile applied

    def problem_groups(self, date_order: str = DATE_ORDER_ADVICE) -> list[ProblemGroup]:
        """One line per kind of problem, for people; date_order says how this surface lets them choose it."""
        return group_problems(self.problems, suggest=self.suggest, date_order=date_order)

    def as_json(self, date_order: str = DATE_ORDER_ADVICE) -> dict[str, Any]:
        """Give the JSON of `zetrials import --json` and `POST /api/v1/imports`: every problem for machines, and
        the same problems grouped for people."""
        return {
            "status": self.status,
            "batch": self.batch,
            "created": self.counts.created,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "skipped": self.counts.skipped,
            "problems": [problem.as_dict() for problem in self.problems],
            "problem_groups": [group.as_dict() for group in self.problem_groups(date_order)],
            "review": None if self.review is None else self.review.as_json(),
        }


class _Rollback(Exception):
    """Leaves the transaction without writing, carrying the result to report."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__(result.status)
        self.result = result


def file_sha256(path: Path) -> str:
    """Fingerprint the file's bytes: the same file imported twice is recognised whatever its name."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _Import:
    """The state of one import while it runs inside its transaction."""

    session: Session
    workbook: RawWorkbook
    scope: Scope
    loader: Loader
    result: ImportResult
    trial_code: str | None
    day_first: bool | None
    progress: Callable[[int], None] | None
    mapping: ImportMapping | None  # a person's mapping; None: apply the saved profile matching each sheet's headers
    tally: ReviewTally
    ports: list[Port] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # the current sheet's mapped values
    trials: dict[str, TrialTarget | str] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)
    unit_numbers: dict[tuple[int, str], int] = field(default_factory=dict)
    rows_done: int = 0
    header_problems: list[Problem] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True once anything is wrong: from then on rows are checked but not written."""
        return bool(self.result.problems)

    def parsers_for(self, mapping: SheetMapping) -> Any:
        """Build the sheet's cell readers with the file's decimal style and date system."""
        parsers = mapping.parsers(
            decimal_comma=self.workbook.csv_decimal_comma, date1904=self.workbook.date1904, day_first=self.day_first
        )
        return with_values(parsers, self.values) if self.values else parsers

    def mapping_for(self, found: SheetMapping) -> ImportMapping | None:
        """The mapping a sheet is read with: the person's, else the saved profile for its headers, if any."""
        if self.mapping is not None:
            return self.mapping or None
        profile = profile_for_headers(self.session, self.scope, found.headers)
        return None if profile is None else ImportMapping.of(profile)

    def counted(self, rows: Iterator[Row], summary: SheetSummary) -> Iterator[Row]:
        """Pass rows through, counting them per sheet and telling the progress callback every so often."""
        for row in rows:
            summary.rows += 1
            self.rows_done += 1
            if self.progress is not None and self.rows_done % PROGRESS_EVERY == 0:
                self.progress(self.rows_done)
            yield row

    def map_sheet(
        self, sheet: RawSheet, kind: Literal["trials", "measurements"]
    ) -> tuple[SheetMapping, Iterator[Row]] | None:
        """Find a sheet's header; a sheet without one is kept aside, to be reported only if no sheet had one."""
        summary = SheetSummary(sheet.name, kind, None)
        self.result.sheets.append(summary)
        counted = self.counted(sheet.rows, summary)
        found, rows = split_header(counted, kind=kind, file=self.result.filename, sheet=sheet.name)
        if isinstance(found, Problem):
            summary.ignored = found.message
            self.header_problems.append(found)
            return None
        chosen = self.mapping_for(found)
        if chosen is not None:
            found = remap(found, chosen.columns, file=self.result.filename, sheet=sheet.name)
            self.result.mapping = self.result.mapping or chosen
        self.values = chosen.values if chosen is not None else {}
        summary.header_row = found.header_row
        summary.headers, summary.header_key = list(found.headers), header_key(found.headers)
        rows = sampled(rows, found, summary.values)
        summary.columns = [
            {"header": c.header, "field": c.field, "unit": c.unit, "unit_assumed": c.unit_assumed}
            for c in found.columns
        ]
        summary.kept_as_notes = [header for _index, header in found.kept_as_notes]
        self.tally.note_columns(
            sheet.name, [(c.header, c.unit or "") for c in found.columns if c.unit_assumed], summary.kept_as_notes
        )
        self.result.problems.extend(found.problems)
        return found, rows

    def trials_sheet(self, sheet: RawSheet) -> None:
        """Check every row of a Trials sheet and create or update the trials it names."""
        mapped = self.map_sheet(sheet, "trials")
        if mapped is None:
            return
        mapping, rows = mapped
        reader = RowReader(mapping, self.parsers_for(mapping), self.result.filename, sheet.name)
        baseline_column = mapping.column("baseline_rate")
        header_unit = baseline_column.unit if baseline_column is not None else None
        label_columns = [mapping.field_index("code") or 0]
        for number, cells in rows:
            if all(cell is None for cell in cells) or totals_label(cells, label_columns):
                self._skip(sheet.name, number, "blank or totals row")
                continue
            values, bad = reader.read(number, cells, self.result.problems)
            fields = trial_values(number, values, bad, reader, self.ports, header_unit)
            if isinstance(fields, list):
                self.result.problems.extend(fields)
                continue
            if not self._may_write_port(fields["port_locode"]):
                self.result.problems.append(
                    reader.problem(number, "port", "editors import only their own port's trials", fields["port_locode"])
                )
                continue
            outside = self.scope.code_refusal(fields["code"])
            if outside is not None or not self._may_write_code(fields["code"]):
                message = outside or "editors import only their own port's trials"
                self.result.problems.append(reader.problem(number, "code", message, fields["code"]))
                continue
            if not self.failed:
                _trial, outcome = upsert_trial(
                    self.session, fields, batch_id=self.loader.batch_id, actor=self.scope.actor
                )
                setattr(self.loader.counts, outcome, getattr(self.loader.counts, outcome) + 1)

    def _may_write_port(self, port: str) -> bool:
        """Editors with a port write only that port's trials, decided from the row alone."""
        return self.scope.can_import and self.scope.port_locode in (None, port)

    def _may_write_code(self, code: str) -> bool:
        """An existing trial keeps its port's rights (reached only for a code in the editor's own prefix)."""
        existing = self.session.exec(select(Trial).where(Trial.code == code)).first()
        return existing is None or self.scope.port_locode in (None, existing.port_locode)

    def find_trial(self, code: str, number: int, reader: RowReader) -> TrialTarget | Problem:
        """Resolve a trial code once per file; one outside the importer's scope is as unknown as a missing one."""
        if code not in self.trials:
            trial = self.session.exec(select(Trial).where(Trial.code == code)).first()
            if trial is None or trial.id is None or not self.scope.can_see(trial):
                self.trials[code] = f"unknown trial {code!r}: add it on a 'Trials' sheet or create it first"
            elif not self.scope.can_edit(trial):
                self.trials[code] = f"you may not import into trial {code!r} of {trial.port_locode}"
            else:
                self.trials[code] = TrialTarget(trial.id, trial.code, trial.equipment_class, trial.units_planned)
        found = self.trials[code]
        return reader.problem(number, "trial_code", found, code) if isinstance(found, str) else found

    def measurements_sheet(self, sheet: RawSheet) -> None:
        """Check every row of a measurement sheet and write the good ones in chunks, while all is well."""
        mapped = self.map_sheet(sheet, "measurements")
        if mapped is None:
            return
        mapping, rows = mapped
        reader = RowReader(mapping, self.parsers_for(mapping), self.result.filename, sheet.name)
        report = SheetReport(problems=self.result.problems)
        checker = MeasurementRows(
            reader, mapping, self.find_trial, self.trial_code, report, self.seen, self.unit_numbers
        )
        chunk: list[MeasurementRecord] = []
        for record in checker.records(rows):
            if len(self.result.problems) >= MAX_PROBLEMS:
                break
            self.tally.add(record)
            if self.failed:
                continue
            _unit, stored_role, _had = self.loader.unit(record.trial_id, record.unit_id, record.role)
            if stored_role != record.role:
                message = f"unit {record.unit_id!r} is a {stored_role.value} unit here, not {record.role.value}"
                self.result.problems.append(reader.problem(record.row, "role", message, record.role.value))
                continue
            chunk.append(record)
            if len(chunk) >= CHUNK_ROWS:
                self.loader.write(chunk)
                chunk = []
        if chunk and not self.failed:
            self.loader.write(chunk)
        for number, reason in report.skipped:
            self._skip(sheet.name, number, reason)
        self.tally.role_assumed |= report.role_assumed

    def _skip(self, sheet: str, number: int, reason: str) -> None:
        """Count and remember a row passed over on purpose."""
        self.loader.counts.skipped += 1
        self.result.skipped_rows.append((sheet, number, reason))

    def run(self) -> None:
        """Trials first (measurements may name them), then every other sheet as measurements."""
        self.ports = list(self.session.exec(select(Port)))
        sheets = self.workbook.sheets
        for sheet in sheets:
            if sheet_kind(sheet.name) == "trials":
                self.trials_sheet(sheet)
        for sheet in sheets:
            if sheet_kind(sheet.name) == "measurements" and len(self.result.problems) < MAX_PROBLEMS:
                self.measurements_sheet(sheet)
        if all(summary.header_row is None for summary in self.result.sheets):
            self.result.problems.extend(
                self.header_problems or [Problem(self.result.filename, "the file holds no sheet")]
            )
        if len(self.result.problems) >= MAX_PROBLEMS:
            self.result.problems.append(
                Problem(self.result.filename, f"stopped after {MAX_PROBLEMS} problems; is this the right file?")
            )


def _suggestions(session: Session, scope: Scope) -> Suggestions:
    """The values a mistyped cell may have meant: only trials the importer may see and write to, never another
    port's private trial."""
    trials = session.exec(select(Trial)).all()
    codes = (trial.code for trial in trials if scope.can_see(trial) and scope.can_edit(trial))
    return Suggestions.of(codes, session.exec(select(Port)).all())


def _existing_batch(session: Session, sha256: str) -> ImportBatch | None:
    """Find an earlier import of the same bytes."""
    return session.exec(select(ImportBatch).where(ImportBatch.sha256 == sha256)).first()


def _duplicate(session: Session, scope: Scope, filename: str, batch: ImportBatch) -> ImportResult:
    """Report a file imported before, changing nothing; a batch outside the viewer's import history (another port's
    editor imported it) is not named, nor are its counts."""
    importer = session.get(User, batch.user_id) if batch.user_id is not None else None
    if scope.port_locode is not None and (importer is None or importer.port_locode != scope.port_locode):
        return ImportResult("duplicate", filename)
    counts = Counts(batch.created, batch.updated, batch.unchanged, batch.skipped)
    return ImportResult("duplicate", filename, batch=batch.id, counts=counts)


def _open_batch(session: Session, sha256: str, filename: str, scope: Scope) -> ImportBatch | ImportResult:
    """Claim the file's fingerprint first, so a second upload of the same bytes waits, then finds it taken."""
    existing = _existing_batch(session, sha256)
    if existing is not None and existing.status == BatchStatus.imported:
        return _duplicate(session, scope, filename, existing)
    if existing is not None:  # undone before: the same batch comes back to life
        existing.status, existing.created_at = BatchStatus.imported, utcnow()
        existing.created = existing.updated = existing.unchanged = existing.skipped = 0
        session.add(existing)
        session.flush()
        return existing
    batch = ImportBatch(sha256=sha256, filename=filename[:255], user_id=scope.user_id)
    session.add(batch)
    session.flush()
    return batch


def import_file(
    engine: Engine,
    path: Path,
    *,
    scope: Scope,
    display_name: str | None = None,
    trial_code: str | None = None,
    dry_run: bool = False,
    day_first: bool | None = None,
    progress: Callable[[int], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    mapping: ImportMapping | None = None,
) -> ImportResult:
    """Import one file: every row lands, or none does; the same bytes twice change nothing.

    `mapping` is what a person said about the file's columns and values (an empty one: read it as written); without
    it, a saved import profile for a sheet's headers is applied to that sheet."""
    filename = display_name or path.name
    if not scope.can_import:
        return ImportResult("rejected", filename, problems=[Problem(filename, "only editors and admins import data")])
    sha256 = file_sha256(path)
    with read_session(engine) as session:
        earlier = _existing_batch(session, sha256)
        if earlier is not None and earlier.status == BatchStatus.imported:
            return _duplicate(session, scope, filename, earlier)
    workbook = read_file(path, display_name=filename, limits=limits)
    if workbook.problems:
        return ImportResult("rejected", filename, problems=workbook.problems)
    try:
        return _import_in_transaction(
            engine, workbook, sha256, scope, trial_code, dry_run, day_first, progress, mapping
        )
    except _Rollback as rollback:
        return rollback.result
    except UnreadableSheet as unreadable:  # met part-way through a sheet: the transaction has rolled back
        return ImportResult("rejected", filename, problems=[unreadable.problem])
    except sa.exc.IntegrityError:
        with read_session(engine) as session:  # another upload of the same bytes won the race
            raced = _existing_batch(session, sha256)
            if raced is None:
                raise
            return _duplicate(session, scope, filename, raced)


def _import_in_transaction(
    engine: Engine,
    workbook: RawWorkbook,
    sha256: str,
    scope: Scope,
    trial_code: str | None,
    dry_run: bool,
    day_first: bool | None,
    progress: Callable[[int], None] | None,
    mapping: ImportMapping | None,
) -> ImportResult:
    """Run the import inside one write transaction, leaving by _Rollback whenever nothing may be written."""
    filename = workbook.filename
    with write_session(engine) as session:
        lock_imports(session)
        opened = _open_batch(session, sha256, filename, scope)
        if isinstance(opened, ImportResult):
            return opened
        assert opened.id is not None
        result = ImportResult("imported", filename, batch=opened.id)
        loader = Loader(session, opened.id, scope.actor, counts=result.counts)
        tally = ReviewTally(known_units(session))
        _Import(session, workbook, scope, loader, result, trial_code, day_first, progress, mapping, tally).run()
        result.review = tally.review(session, result.mapping.profile if result.mapping is not None else None)
        if result.problems:
            result.status, result.batch = "rejected", None
            result.suggest = _suggestions(session, scope)
            raise _Rollback(result)
        if dry_run:
            result.status, result.batch = "dry-run", None
            raise _Rollback(result)
        refresh_rollups(session, batch_trial_ids(session, opened.id))
        counts = result.counts
        opened.created, opened.updated, opened.unchanged, opened.skipped = (
            counts.created,
            counts.updated,
            counts.unchanged,
            counts.skipped,
        )
        session.add(opened)
        audit.record(
            session,
            actor=scope.actor,
            action="import",
            object=f"batch:{opened.id}",
            after={"file": filename, "sha256": sha256, **result.as_json(), "problems": [], "review": None},
            import_batch_id=opened.id,
        )
    return result
