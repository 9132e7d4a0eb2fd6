"""Thin glue: each callback builds the viewer's scope from the session, loads through data.py, draws with figures.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import dash
from dash import MATCH, Input, Output, State, ctx, html, no_update

from app.context import engine, require_role
from app.dashboard import compare_data, data, figures, state
from app.dashboard.pages import compare, methodology, overview, trials
from app.dashboard.state import URL_BASE
from app.dashboard.table import Table, to_csv
from app.shell import DASH_LINKS
from trials import registry
from trials.db import read_session
from trials.models import Role
from trials.queries import get_trial, list_ports, today
from trials.scope import Scope

#: Everyone signed in reads dashboards and the data behind their charts, within their own scope.
READERS = tuple(Role)
#: The filter and view controls, in the order of state.from_controls' arguments.
CONTROLS = ("f-port", "f-class", "f-tech", "f-from", "f-to", "c-metric", "c-ghg", "c-basis", "c-grain")
#: The Dash pages the header links to (app/shell.py), whose links carry the view's filters along.
PAGES = tuple(link.key for link in DASH_LINKS)


def page_of(pathname: str | None) -> tuple[str, str | None]:
    """Which page a path shows, and the trial code for a trial's page."""
    rest = (pathname or URL_BASE).removeprefix(URL_BASE).strip("/")
    if rest in ("", "overview"):
        return "overview", None
    if rest.startswith("trials/") and len(rest) > len("trials/"):
        return "trial", unquote(rest.removeprefix("trials/"))
    return (rest, None) if rest in PAGES else ("missing", None)


def controls_of(view: state.ViewState) -> list[Any]:
    """The controls' values that show a view."""
    return [
        list(view.ports),
        view.equipment_class.value if view.equipment_class else None,
        [t.value for t in view.technologies],
        state.format_month(view.first_month),
        state.format_month(view.last_month),
        view.metric,
        view.ghg,
        view.basis,
        view.grain,
    ]


def _reader() -> Scope:
    """The viewer's scope, from the session only; every callback starts here."""
    return require_role(*READERS)


def register(app: dash.Dash) -> None:
    """Register every callback on this Dash instance (never on the global dash.callback)."""

    @app.callback(
        Output("url", "search"),
        *[Output(control, "value") for control in CONTROLS],
        Output("f-preset", "value"),
        Input("url", "search"),
        *[Input(control, "value") for control in CONTROLS],
        Input("f-preset", "value"),
    )
    def sync_view(search: str | None, *values: Any) -> list[Any]:
        """Keep the URL and the controls in step: a link sets the controls, a control rewrites the link, and a
        period preset sets the From and To months."""
        shown = state.parse(search)
        if ctx.triggered_id in (None, "url"):
            return [no_update, *controls_of(shown), state.preset_of(shown, today())]
        view = replace(state.from_controls(*values[:-1]), factors=shown.factors)  # a trial page keeps its set
        controls: list[Any] = [no_update] * len(CONTROLS)
        if ctx.triggered_id == "f-preset":
            months = state.preset_months(values[-1], today())
            if months is None:
                return [no_update] * (len(CONTROLS) + 2)
            view = replace(view, first_month=months[0], last_month=months[1])
            controls = controls_of(view)  # Dash does not call a callback again for its own outputs: set From and To
        written = state.to_search(view)
        return [written if written != (search or "") else no_update, *controls, state.preset_of(view, today())]

    @app.callback(Output("f-preset", "options"), Input("url", "pathname"))
    def period_presets(_pathname: str | None) -> list[dict[str, str]]:
        """The periods offered in one click: the last 12 months, the year to date, each year the trials in view run."""
        scope = _reader()
        with read_session(engine()) as session:
            years = data.trial_years(session=session, scope=scope, as_of=today())
        return [{"label": text, "value": value} for value, text in state.presets(years)]

    @app.callback(Output("c-metric", "options"), Input("url", "search"))
    def metric_options(search: str | None) -> list[dict[str, Any]]:
        """Compare's metrics named for the class compared (energy per move for STS cranes) and the GHG scope."""
        scope = _reader()
        with read_session(engine()) as session:
            view = compare_data.compare_state(session=session, scope=scope, state=state.parse(search))
        return compare.metric_options(view)

    @app.callback(
        *[Output(f"nav-{page}", "href") for page in PAGES],
        *[Output(f"nav-{page}", "className") for page in PAGES],
        Output("compare-controls", "hidden"),
        Output("ghg-controls", "hidden"),
        Output("trial-controls", "hidden"),
        Output("menu-toggle", "key"),
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def navigation(pathname: str | None, search: str | None) -> list[Any]:
        """Carry the view's filters along every link, mark the page shown, show the controls it uses, and close the
        phone's menu on a new page (a new key draws its toggle afresh, closed)."""
        page, _code = page_of(pathname)
        hrefs = [f"{link.href}{search or ''}" for link in DASH_LINKS]
        classes = ["active" if name == page or (name == "trials" and page == "trial") else "" for name in PAGES]
        shown = [page != "compare", page not in ("compare", "trial"), page != "trial"]
        return [*hrefs, *classes, *shown, pathname or ""]

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def route(pathname: str | None) -> Any:
        """Lay out the page a path names; its own callbacks then fill it."""
        scope = _reader()
        page, code = page_of(pathname)
        if page == "trial" and code:
            with read_session(engine()) as session:
                trial = get_trial(session=session, scope=scope, code=code)
            # a trial the viewer may not see reads exactly as one that does not exist: no report link, no frames
            return trials.trial_layout(code) if trial is not None else trials.missing(code)
        layouts: dict[str, Callable[[], Any]] = {
            "overview": overview.layout,
            "compare": compare.layout,
            "trials": trials.layout,
            "methodology": methodology.layout,
        }
        if page in layouts:
            return layouts[page]()
        return html.Div([html.H1("Not found"), html.P("There is no such dashboard page.")])

    @app.callback(Output("headlines", "children"), Input("url", "search"))
    def headlines(search: str | None) -> Any:
        """Headline figures of the trials in view, with the period their data cover."""
        scope, view = _reader(), state.parse(search)
        with read_session(engine()) as session:
            rows = data.trial_rows(session=session, scope=scope, state=view, as_of=today())
        ports = sorted({(row.port.name, row.port.locode) for row in rows})
        return overview.headlines(
            data.headline_table(rows), data.data_span(rows), data.left_out(rows), search or "", ports
        )

    @app.callback(Output("chart-map", "figure"), Input("url", "search"))
    def port_map(search: str | None) -> Any:
        """The ports of the trials in view, sized by their avoided emissions."""
        table = chart_table(_reader(), state.parse(search), "map", None)
        with read_session(engine()) as session:
            ports = [port.locode for port in list_ports(session=session)]  # the monthly chart's order and colours
        return figures.port_map(table, ports)

    @app.callback(Output("chart-monthly", "figure"), Input("url", "search"))
    def monthly(search: str | None) -> Any:
        """Avoided emissions per month, stacked by port."""
        table = chart_table(_reader(), state.parse(search), "monthly", None)
        with read_session(engine()) as session:
            ports = {port.locode: port.name for port in list_ports(session=session)}
        return figures.monthly_by_port(table, ports)

    @app.callback(
        Output("chart-bars", "figure"),
        Output("chart-grid", "figure"),
        Output("compare-note", "children"),
        Output("compare-report", "children"),
        Output("compare-table", "children"),
        Input("url", "search"),
    )
    def comparison(search: str | None) -> list[Any]:
        """Trials of one class side by side on the chosen metric (the class with the most trials when none is
        chosen), each trial's baseline, hydrogen and checks in a table, and how the grid drives their reduction."""
        scope, asked = _reader(), state.parse(search)
        with read_session(engine()) as session:
            view = compare_data.compare_state(session=session, scope=scope, state=asked)
            found = compare_data.comparison(session=session, scope=scope, state=view, as_of=today())
        return [
            figures.compare_bars(found.bars, compare_data.metric_label(view), _unit_of(found.bars)),
            figures.grid_scatter(found.grid),
            compare_note(view, found, chosen=asked.equipment_class is not None),
            compare.report_link(view.equipment_class),
            compare.trials_table(found, search or ""),
        ]

    @app.callback(Output("chart-spread", "figure"), Input("url", "search"))
    def spread(search: str | None) -> Any:
        """Every unit's result behind each bar."""
        scope = _reader()
        with read_session(engine()) as session:
            view = compare_data.compare_state(session=session, scope=scope, state=state.parse(search))
        table = chart_table(scope, view, "spread", None)
        return figures.compare_spread(table, compare_data.metric_label(view), _unit_of(table))

    @app.callback(Output("trials-grid", "rowData"), Output("trials-summary", "children"), Input("url", "search"))
    def trials_grid(search: str | None) -> list[Any]:
        """Every trial in view with its key figures, and which of them the avoided-emission totals leave out, why."""
        scope, view = _reader(), state.parse(search)
        with read_session(engine()) as session:
            rows = data.trial_rows(session=session, scope=scope, state=view, as_of=today())
        return [trials.grid_rows(data.trials_table(rows), search or ""), trials.summary(len(rows), data.left_out(rows))]

    @app.callback(
        Output("trial-title", "children"),
        Output("trial-header", "children"),
        Output("trial-metrics", "children"),
        Output("chart-series", "figure"),
        Output("chart-baseline", "figure"),
        Output("chart-availability", "figure"),
        Output("chart-charging", "figure"),
        Output("chart-calendar", "figure"),
        Input("url", "search"),
        State("url", "pathname"),
    )
    def trial_page(search: str | None, pathname: str | None) -> list[Any]:
        """A trial's own figures over the view's period: time series, baseline, availability, charging, coverage."""
        scope, view = _reader(), state.parse(search)
        _page, code = page_of(pathname)
        with read_session(engine()) as session:
            sets = data.factor_sets(session)
            if view.factors is not None and view.factors not in {name for name, _default in sets}:
                known = ", ".join(name for name, _default in sets)
                said = f"There is no factor set {view.factors!r}; the sets are {known}."
                return [f"No factor set {view.factors}", html.P(said), *[no_update] * 6]
            detail = data.trial_detail(session=session, scope=scope, code=code or "", state=view, as_of=today())
        if detail is None:
            return [f"No trial {code}", html.P("No such trial in your view."), *[no_update] * 6]
        series = data.series_table(detail, view, today())
        calendar = data.calendar_table(detail, today(), view.period)
        covered = detail.row.result.values["data_coverage_pct"]
        return [
            f"{detail.row.trial.code}: {detail.row.trial.name}",
            trials.header(detail, sets, search or "", scope.can_edit(detail.row.trial)),
            trials.metrics(data.metrics_table(detail), detail.market is not None, detail.row.result.flags),
            figures.trial_series(series, view.grain),
            figures.trial_vs_baseline(series, view.ghg),
            figures.availability(series),
            figures.charging(series),
            figures.coverage_calendar(calendar, covered),
        ]

    @app.callback(
        Output("provenance-grid", "rowData"),
        Output("provenance-status", "children"),
        Output("provenance-page", "data"),
        Input("provenance-previous", "n_clicks"),
        Input("provenance-next", "n_clicks"),
        State("provenance-page", "data"),
        State("url", "pathname"),
        State("url", "search"),
    )
    def provenance(_previous: int, _next: int, page: int | None, pathname: str | None, search: str | None) -> list[Any]:
        """One page of the trial's measurements in the view's months, with where each came from."""
        scope, view = _reader(), state.parse(search)
        step = {"provenance-previous": -1, "provenance-next": 1}.get(str(ctx.triggered_id), 0)
        wanted = max(0, (page or 0) + step)
        _page, code = page_of(pathname)
        with read_session(engine()) as session:
            table, count = data.provenance_table(session=session, scope=scope, code=code or "", state=view, page=wanted)
            last_page = max(0, (count - 1) // data.PROVENANCE_PAGE)
            if wanted > last_page:
                wanted = last_page
                table, count = data.provenance_table(
                    session=session, scope=scope, code=code or "", state=view, page=wanted
                )
        first = wanted * data.PROVENANCE_PAGE
        status = f" rows {first + 1:,}–{first + len(table.rows):,} of {count:,} " if count else " no measurements "
        return [table.records(), status, wanted]

    @app.callback(Output("methodology-body", "children"), Input("url", "search"))
    def methodology_body(_search: str | None) -> Any:
        """Every formula and factor, generated from the code and the default factor set."""
        _reader()
        with read_session(engine()) as session:
            return methodology.body(data.methodology(session=session))

    @app.callback(
        Output({"type": "download", "chart": MATCH}, "data"),
        Input({"type": "download-button", "chart": MATCH}, "n_clicks"),
        State("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def download(clicks: int, search: str | None, pathname: str | None) -> Any:
        """Send the data behind one chart as CSV, loaded again for the viewer's scope and the view in the URL."""
        if not clicks:
            return no_update
        scope, view = _reader(), state.parse(search)
        chart = str(ctx.triggered_id["chart"]) if isinstance(ctx.triggered_id, dict) else ""
        _page, code = page_of(pathname)
        table = chart_table(scope, view, chart, code)
        sources = [f"ZE Trials dashboard, chart {chart}, view {search or '(all)'}", "missing values are empty, never 0"]
        return {"content": to_csv(table, sources), "filename": f"zetrials-{chart}.csv", "type": "text/csv"}


def _unit_of(table: Table) -> str:
    """The unit of a table's values, from its first row."""
    return str(table.rows[0][table.columns.index("unit")]) if table.rows else ""


def compare_note(view: state.ViewState, found: compare_data.Comparison, chosen: bool = True) -> str:
    """Say what is compared, per which activity unit, and why this class when none was chosen."""
    if view.equipment_class is None:
        return "No trials in view: widen the filters above to compare trials of one class."
    classes = registry.label(view.equipment_class, 2, capital=True)
    why = "" if chosen else " (the class with the most trials in view; choose another above)"
    if found.metric_key is None:
        return (
            f"{classes}{why}: {compare_data.metric_label(view)} is a well-to-wheel figure only; choose well-to-wheel."
        )
    unit = registry.METRICS[found.metric_key].unit_for(view.equipment_class)
    count = registry.counted(len(found.bars.rows), "trial")
    return f"{classes}{why}: {compare_data.metric_label(view)}, in {unit}, {view.basis}-based electricity, {count}."


def chart_table(scope: Scope, view: state.ViewState, chart: str, code: str | None) -> Table:
    """The data behind a chart, for the chart and its download alike."""
    with read_session(engine()) as session:
        if chart in ("map", "trials"):
            rows = data.trial_rows(session=session, scope=scope, state=view, as_of=today())
            return data.port_map_table(rows) if chart == "map" else data.trials_table(rows)
        if chart == "monthly":
            return data.monthly_avoided_table(session=session, scope=scope, state=view)
        if chart == "spread":
            view = compare_data.compare_state(session=session, scope=scope, state=view)
            return compare_data.unit_spread(session=session, scope=scope, state=view, as_of=today())
        if chart in ("bars", "grid"):
            view = compare_data.compare_state(session=session, scope=scope, state=view)
            found = compare_data.comparison(session=session, scope=scope, state=view, as_of=today())
            return found.bars if chart == "bars" else found.grid
        if chart in ("series", "baseline", "availability", "charging", "calendar") and code:
            detail = data.trial_detail(session=session, scope=scope, code=code, state=view, as_of=today())
            if detail is None:
                return Table(("message",), [("no such trial in your view",)])
            if chart == "calendar":
                return data.calendar_table(detail, today(), view.period)
            return data.series_table(detail, view, today())
    return Table(("message",), [(f"no chart {chart!r}",)])
