"""HTML tables of the report pages, one way for every page: a formatter per kind of cell and,
for long tables, a click-to-sort header (SORT_SCRIPT, inline, nothing fetched).

A table is described by {column: (heading, kind)}, kind one of: text; date (YYYY-MM-DD);
pct (a fraction as a signed percent, 1 decimal); num (2 decimals; "inf" for an infinite
ratio); money (currency, 2 decimals, thousands separated); p (a probability, 3 significant
digits); count (a whole number); days (a whole number of days, "not within window" when
missing). A missing figure shows "–". A sortable table's numeric cells carry their value in
data-v, so they sort by number, not by text, and missing ones go last either way."""

from __future__ import annotations

import html
import math
import numbers

import numpy as np
import pandas as pd

NUMERIC = ("pct", "num", "money", "p", "count", "days")  # kinds sorted as numbers
SORT_STYLE = (
    " td.t,th.t{text-align:left}"
    " .rows{max-height:70vh;overflow:auto;margin:1rem 0;border:1px solid #e3e3e3}"
    " .rows table{margin:0} .rows thead th{position:sticky;top:0;z-index:1}"
    " .rows th,.rows td{padding:.25rem .45rem}"
    " table.sortable th{cursor:pointer;user-select:none} table.sortable th:hover{background:#e9eef6}"
    ' th[aria-sort=ascending]::after{content:" ▲"} th[aria-sort=descending]::after{content:" ▼"}'
)
# Sorts a table.sortable by the column whose header is clicked: numbers by their data-v (a
# cell without one is missing and goes last either way), text columns by their text; a
# second click on the same header reverses the order.
SORT_SCRIPT = """<script>(function(){
function key(row,col,num){var c=row.cells[col];if(!num){return c.textContent;}
 var v=c.getAttribute("data-v");return v===null?NaN:parseFloat(v);}
document.querySelectorAll("table.sortable").forEach(function(table){
 var heads=table.tHead.rows[0].cells;
 Array.prototype.forEach.call(heads,function(th,col){th.addEventListener("click",function(){
  var body=table.tBodies[0],num=th.getAttribute("data-sort")==="num";
  var dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
  var rows=Array.prototype.map.call(body.rows,function(r,i){return {r:r,k:key(r,col,num),i:i};});
  rows.sort(function(a,b){
   if(num){var na=isNaN(a.k),nb=isNaN(b.k);
    if(na||nb){return na===nb?a.i-b.i:(na?1:-1);}
    return a.k===b.k?a.i-b.i:dir*(a.k-b.k);}
   var c=a.k.localeCompare(b.k);return c===0?a.i-b.i:dir*c;});
  rows.forEach(function(x){body.appendChild(x.r);});
  Array.prototype.forEach.call(heads,function(h){h.removeAttribute("aria-sort");});
  th.setAttribute("aria-sort",dir>0?"ascending":"descending");});});
});})();</script>"""


def fmt(value, kind: str) -> str:
    """A cell's text (escaped) for `kind` (module docstring)."""
    if kind == "text":
        return html.escape(str(value))
    if value is None or value is pd.NaT:
        return "–"
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, float) and math.isnan(value):
        return "not within window" if kind == "days" else "–"
    if kind == "num" and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return {
        "pct": lambda v: f"{v:+.1%}",
        "num": lambda v: f"{v:.2f}",
        "money": lambda v: f"{v:,.2f}",
        "p": lambda v: f"{v:.3g}",
        "count": lambda v: f"{int(v)}",
        "days": lambda v: f"{int(v)} d",
    }[kind](value)


def _number(value) -> float | None:
    """`value` as a finite float, or None (missing, or not a number)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def _td(value, kind: str, sortable: bool = False) -> str:
    cls = "t" if kind in ("text", "date") else ""
    signed = kind in ("pct", "money") and isinstance(value, float)
    cls = cls or ("neg" if signed and value < 0 else "")
    cls = cls or ("pos" if kind == "pct" and isinstance(value, float) and value > 0 else "")
    number = _number(value) if sortable and kind in NUMERIC else None
    key = "" if number is None else f' data-v="{number!r}"'
    return f'<td class="{cls}"{key}>{fmt(value, kind)}</td>'


def table_html(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    first: str | None = None,
    sortable: bool = False,
    table_id: str | None = None,
) -> str:
    """`frame`'s `columns` ({column: (heading, kind)}), with its index as the first column
    headed `first` when given. `sortable`: a click on a header sorts the rows by that column
    (SORT_SCRIPT, which the page must hold): numeric kinds by each cell's value (data-v), the
    others by their text. `table_id`: the table's element id."""
    cols = {c: spec for c, spec in columns.items() if c in frame.columns}

    def th(heading: str, kind: str) -> str:
        sort = f' data-sort="{"num" if kind in NUMERIC else "text"}"' if sortable else ""
        return f"<th{' class=t' if kind in ('text', 'date') else ''}{sort}>{heading}</th>"

    lead = th(html.escape(first), "text") if first is not None else ""
    head = lead + "".join(th(html.escape(h), k) for h, k in cols.values())
    rows = "".join(
        "<tr>"
        + (f"<td>{html.escape(str(label))}</td>" if first is not None else "")
        + "".join(_td(row[c], k, sortable) for c, (_, k) in cols.items())
        + "</tr>"
        for label, row in frame.iterrows()
    )
    attrs = (" class=sortable" if sortable else "") + (f' id="{html.escape(table_id)}"' if table_id else "")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
