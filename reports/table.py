"""HTML tables of the report pages: one formatter per kind of cell and, for long tables, a
click-to-sort header (SORT_SCRIPT, inline, nothing fetched).

A table is described by {column: (heading, kind)}, kind one of: text, date (YYYY-MM-DD),
count (whole number), num (3 decimals), money (2 decimals, thousands separated), pct (a
fraction shown in percent, 2 decimals), p (a probability, 3 decimals). Missing values show
"n/a" and sort last. A sortable table's numeric cells carry their value in data-v, so they
sort by number, not by text."""

from __future__ import annotations

import html
import math

import pandas as pd

NUMERIC = ("count", "num", "money", "pct", "p", "days")  # kinds sorted as numbers
SORT_STYLE = (
    " .rows{max-height:70vh;overflow:auto;margin:1rem 0;border:1px solid #e3e3e3}"
    " .rows table{margin:0} .rows thead th{position:sticky;top:0;z-index:1}"
    " table.sortable th{cursor:pointer;user-select:none} table.sortable th:hover{background:#e9eef6}"
    ' th[aria-sort=ascending]::after{content:" ▲"} th[aria-sort=descending]::after{content:" ▼"}'
    " td.t,th.t{text-align:left}"
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


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def cell_text(value, kind: str) -> str:
    """One value as the text of a cell of `kind` (module docstring)."""
    if _missing(value):
        return "n/a"
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind in ("count", "days"):
        return f"{float(value):,.0f}"
    if kind == "num":
        return "inf" if math.isinf(float(value)) else f"{float(value):,.3f}"
    if kind == "money":
        return f"{float(value):,.2f}"
    if kind == "pct":
        return f"{float(value) * 100:.2f}%"
    if kind == "p":
        return f"{float(value):.3f}"
    return str(value)


def _td(value, kind: str, sortable: bool) -> str:
    text = html.escape(cell_text(value, kind))
    if kind in ("text", "date"):
        return f"<td class=t>{text}</td>"
    cls = ' class="neg"' if kind in ("pct", "money") and not _missing(value) and float(value) < 0 else ""
    v = "" if not sortable or _missing(value) else f' data-v="{float(value)!r}"'
    return f"<td{cls}{v}>{text}</td>"


def table_html(
    frame: pd.DataFrame,
    columns: dict[str, tuple[str, str]],
    sortable: bool = False,
    table_id: str | None = None,
) -> str:
    """The rows of `frame` as a table of `columns` ({column: (heading, kind)}, in that order);
    `sortable`: a click on a header sorts the rows by it (the page must include SORT_SCRIPT)."""

    def th(heading: str, kind: str) -> str:
        sort = f' data-sort="{"num" if kind in NUMERIC else "text"}"' if sortable else ""
        cls = " class=t" if kind in ("text", "date") else ""
        return f"<th{cls}{sort}>{html.escape(heading)}</th>"

    head = "".join(th(h, k) for h, k in columns.values())
    rows = "".join(
        "<tr>" + "".join(_td(row[c], k, sortable) for c, (_, k) in columns.items()) + "</tr>"
        for _, row in frame.iterrows()
    )
    attrs = (" class=sortable" if sortable else "") + (f' id="{html.escape(table_id)}"' if table_id else "")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
