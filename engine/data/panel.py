"""The price panel: aligned wide frames (dates x tickers) for each bar field."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from engine.config import Config, load_config
from engine.data import checks, store, yahoo
from engine.data import earnings as earnings_file
from engine.data.validate import FIELDS
from engine.errors import AishockError
from engine.symbols import normalise_symbol




@dataclass(frozen=True)
class Prices:
    """Daily bars of many tickers on one calendar (the union of their trading days), plus the
    earnings calendar found beside them (date, ticker, note; empty if none).

    Each field is a DataFrame (dates x tickers). A ticker is NaN before its first bar and
    after its last (never back-filled); a gap inside its history carries the last close
    forward (open/high/low stay NaN there). Close-only tickers have all-NaN open, high, low
    and volume and are listed in `close_only`. `sources` says where each ticker came from.
    `adjusted` lists the tickers whose closes came from an Adj Close column of their CSV
    (open, high and low scaled to match: engine.data.csvfile); a yfinance download is
    adjusted at the source and is not listed.

    `notes` holds the data checks' warnings per ticker (engine.data.checks) and
    `load_warnings` the others (an unwritable cache); `warnings` is all of them plus one line
    per group of tickers whose data ends before the panel's last date (`delisted`).
    `span` is the first and last date of the data as loaded, before any window was cut, so
    an empty window can say what the data covers.
    """

    close: pd.DataFrame
    open: pd.DataFrame
    high: pd.DataFrame
    low: pd.DataFrame
    volume: pd.DataFrame
    close_only: frozenset[str] = frozenset()
    sources: dict[str, str] = field(default_factory=dict)
    adjusted: frozenset[str] = frozenset()
    earnings: pd.DataFrame = field(default_factory=earnings_file.empty)
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    load_warnings: tuple[str, ...] = ()
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None

    @property
    def delisted(self) -> dict[str, pd.Timestamp]:
        """{ticker: its last date} for the tickers whose data ends before the panel's last
        date: treated as delisted (a position is closed at the last close)."""
        return checks.last_dates(self.close)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every warning about this panel's data, one line each (see the class docstring)."""
        per_ticker = [w for t in self.tickers for w in self.notes.get(t, ())]
        return (*self.load_warnings, *per_ticker, *checks.delisting_warnings(self.close))

    def _with(self, frames, **changes) -> Prices:
        """This panel with the five field frames replaced (and `changes`)."""
        return replace(self, **dict(zip(FIELDS_ORDER, frames, strict=True)), **changes)

    @property
    def tickers(self) -> list[str]:
        return list(self.close.columns)

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.close.index

    def fill_price(self) -> pd.DataFrame:
        """The price an order placed for bar t fills at: the open where the ticker has opens,
        else the close."""
        return self.open.where(self.open.notna(), self.close)

    def returns(self) -> pd.DataFrame:
        """Close-to-close simple returns (fraction); NaN on each ticker's first bar."""
        return self.close.pct_change(fill_method=None)

    def select(self, tickers: Iterable[str]) -> Prices:
        """The panel restricted to `tickers` (all must be loaded)."""
        cols = list(tickers)
        missing = [t for t in cols if t not in self.close.columns]
        if missing:
            raise AishockError(f"ticker(s) not loaded: {', '.join(missing)}")
        return self._with(
            [getattr(self, f)[cols] for f in FIELDS_ORDER],
            close_only=self.close_only & set(cols),
            adjusted=self.adjusted & set(cols),
            sources={t: self.sources[t] for t in cols if t in self.sources},
            notes={t: self.notes[t] for t in cols if t in self.notes},
        )

    def window(self, start=None, end=None) -> Prices:
        """The rows from `start` to `end` inclusive (either may be None)."""
        start, end = _dates(start, end)
        rows = slice(start, end)
        picked = self._with([getattr(self, f).loc[rows] for f in FIELDS_ORDER])
        if picked.close.empty or picked.close.isna().all().all():
            span = self.span or ((self.index[0], self.index[-1]) if len(self.index) else None)
            raise AishockError(no_prices(start, end, span))
        return picked

    def fingerprint(self) -> str:
        """A short hash of every value in the panel, for run manifests."""
        h = hashlib.sha256()
        for f in FIELDS_ORDER:
            h.update(pd.util.hash_pandas_object(getattr(self, f), index=True).to_numpy().tobytes())
        return h.hexdigest()[:16]


FIELDS_ORDER = ("close", "open", "high", "low", "volume")


def no_prices(start, end, span: tuple[pd.Timestamp, pd.Timestamp] | None) -> str:
    """The one-line message for a window [start, end] (either may be None) holding no prices,
    saying what the data covers (`span`: its first and last date, before any window)."""
    start, end = (pd.Timestamp(x) if x is not None and x != "" else None for x in (start, end))
    covers = f"{span[0].date()}..{span[1].date()}" if span else "no dates"
    if start is not None and end is not None:
        asked = f"between {start.date()} and {end.date()}"
    elif start is not None:
        asked = f"from {start.date()}"
    elif end is not None:
        asked = f"up to {end.date()}"
    else:
        asked = "at all"
    return f"no prices {asked} (data covers {covers}); choose dates inside it"


def _dates(start, end) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    def parse(value, name):
        if value is None or value == "":
            return None
        try:
            return pd.Timestamp(value).normalize()
        except (ValueError, TypeError):
            raise AishockError(f"{name} date '{value}' is not a date; use YYYY-MM-DD") from None

    s, e = parse(start, "start"), parse(end, "end")
    if s is not None and e is not None and s > e:
        raise AishockError(f"start {s.date()} is after end {e.date()}; swap them")
    return s, e


def _assemble(wide: pd.DataFrame, tickers: list[str], sources: dict[str, str]) -> Prices:
    """Split a wide `TICKER|field` frame into one frame per field (dates x tickers)."""
    wide = wide.dropna(how="all")
    ticker_of, field_of = zip(*(c.split(store.SEP, 1) for c in wide.columns), strict=True)
    split = {f: [i for i, x in enumerate(field_of) if x == f] for f in FIELDS}
    frames = {}
    for f in FIELDS:
        part = wide.iloc[:, split[f]]
        part.columns = pd.Index([ticker_of[i] for i in split[f]], name="ticker")
        frames[f] = part.reindex(columns=pd.Index(tickers, name="ticker")).astype(float)
    close = frames["close"]
    inside = close.ffill().notna() & close.bfill().notna()
    frames["close"] = close.ffill().where(inside)
    has_open = frames["open"].notna().any()
    close_only = frozenset(t for t in tickers if not has_open[t])
    span = (close.index[0], close.index[-1]) if len(close.index) else None
    return Prices(**frames, close_only=close_only, sources=sources, span=span)


def load_prices(
    tickers: Iterable[str], start=None, end=None, config: Config | None = None, data: str | Path | None = None
) -> Prices:
    """Load `tickers` into one Prices panel between `start` and `end` (inclusive).

    Each ticker is read from the first data folder that has its CSV, else from the yfinance
    cache, else downloaded with yfinance (when `config.online`). `data` replaces the
    configured folders. Raises AishockError for a bad symbol, a ticker found nowhere, a start
    after the end, or a window with no data. Every bar goes through the data checks
    (engine.data.checks); their warnings are on the panel (`warnings`) and issued as
    `DataWarning`s.
    """
    cfg = (config or load_config()).with_data(data)
    symbols = list(dict.fromkeys(normalise_symbol(t) for t in tickers))
    if not symbols:
        raise AishockError("no tickers given; name at least one")
    _dates(start, end)
    paths = {t: p for t in symbols if (p := store.find_csv(t, cfg.data_dirs))}
    local = store.read_local(paths, cfg.cache_dir)
    wide, notes = local.wide, local.notes
    sources = {t: str(p) for t, p in paths.items()}
    remote, problems = {}, list(local.cache_warnings)
    for t in symbols:
        if t not in paths:
            remote[t], notes[t] = checks.check_bars(t, "yfinance", _remote(t, cfg, problems))
    if remote:
        wide = pd.concat([wide, store.widen(remote)], axis=1, sort=True)
        sources.update(dict.fromkeys(remote, "yfinance"))
    prices = _assemble(wide, symbols, sources)
    prices = replace(
        prices,
        earnings=earnings_file.read_earnings(cfg.data_dirs),
        notes={t: tuple(n) for t, n in notes.items() if n},
        adjusted=frozenset(local.adjusted),
        load_warnings=tuple(problems),
    )
    prices = prices.window(start, end)
    checks.emit(prices.warnings)
    return prices


def _remote(ticker: str, cfg: Config, problems: list[str]) -> pd.DataFrame:
    cached = yahoo.read_cached(cfg.cache_dir, ticker)
    if cached is not None:
        return cached
    places = ", ".join(str(d) for d in cfg.data_dirs) or "no data folders"
    if not cfg.online:
        raise AishockError(
            f"unknown ticker {ticker}: no {ticker}.csv in {places}, and offline "
            f"(AISHOCK_OFFLINE is set); check the symbol or add its CSV{_not_a_basket()}"
        )
    try:
        return yahoo.download(ticker, cfg.cache_dir, problems)
    except AishockError as e:
        raise AishockError(
            f"unknown ticker {ticker}: no {ticker}.csv in {places}, and {e}{_not_a_basket()}"
        ) from None


def _not_a_basket() -> str:
    """The end of an unknown ticker's message: a universe name that is neither a basket nor
    near one (engine.data.universe refuses a near miss itself) is read as a ticker, so a
    mistyped basket name ends here; the baskets are named so that it can be told."""
    from engine.data.universe import baskets  # universe builds on this module

    try:
        names = ", ".join(baskets())
    except AishockError:
        return ""
    return f" (if it was meant as a basket: the baskets are {names})"
