"""Native bar charts that compare trials, drawn from cells of the report itself so a reader can check each bar."""

from __future__ import annotations

import math

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties, RegularTextRun
from openpyxl.utils import get_column_letter, quote_sheetname

from reports.print_setup import LINE_POINTS, chart_points

WIDTH_CM = 17.0
#: Height of the chart's frame, and of each bar it holds (thinner bars when there are many).
_FRAME_CM = 3.0
_BAR_CM = 0.9
_THIN_BAR_CM = 0.45
_THIN_FROM_BARS = 9
_MIN_HEIGHT_CM = 5.5
_TITLE_POINTS = 11


def compare_chart(
    *, sheet: str, title: str, unit: str, labels_column: int, values_column: int, first: int, last: int
) -> BarChart:
    """A horizontal bar per trial (its name down the side, so long names stay readable), values written on the bars."""
    where = quote_sheetname(sheet)
    chart = BarChart()
    chart.type = "bar"
    chart.title = _title(title)
    chart.legend = None
    chart.x_axis.delete = False  # openpyxl hides both axes unless told
    chart.y_axis.delete = False
    chart.y_axis.axPos = "b"  # horizontal bars: the values run along the bottom
    chart.y_axis.title = unit
    chart.x_axis.scaling.orientation = "maxMin"  # the first trial on top, as in the table beside
    chart.y_axis.crosses = "max"  # with the categories reversed, keep the value axis at the bottom
    column = get_column_letter(values_column)
    chart.add_data(Reference(range_string=f"{where}!${column}${first}:${column}${last}"), titles_from_data=False)
    (series,) = chart.series
    series.tx = SeriesLabel(v=unit)
    labels = get_column_letter(labels_column)
    series.cat = AxDataSource(strRef=StrRef(f=f"{where}!${labels}${first}:${labels}${last}"))  # text, not numbers
    series.dLbls = DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False)
    chart.width = WIDTH_CM
    bars = last - first + 1
    chart.height = max(_MIN_HEIGHT_CM, _FRAME_CM + (_THIN_BAR_CM if bars >= _THIN_FROM_BARS else _BAR_CM) * bars)
    return chart


def _title(text: str) -> Title:
    """A chart title in 11-point bold, the size of the sheet's headings, so it stays on one line beside the bars."""
    font = CharacterProperties(sz=_TITLE_POINTS * 100, b=True)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=font), r=[RegularTextRun(rPr=font, t=text)])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def rows_for(chart: BarChart) -> int:
    """How many default rows a chart covers, with one spare below it."""
    return math.ceil(chart_points(chart.height) / LINE_POINTS) + 1
