"""Project configuration: `[tool.aishock]` in a pyproject.toml, found from the working
directory (that folder or the nearest parent holding a pyproject.toml with a `[tool.aishock]`
table) or named by AISHOCK_CONFIG (`aishock --config FILE`), never from where the code is
installed. Without one, the defaults apply, relative to the working directory. Price folders
are overridden by `--data` or the AISHOCK_DATA environment variable (os.pathsep-separated)."""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from engine.errors import AishockError

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the source tree (Dask workers start here)
CONFIG_ENV = "AISHOCK_CONFIG"
TRADING_DAYS = 252  # periods per year: the default of every annualised figure


@dataclass(frozen=True)
class Config:
    """Resolved settings. Paths are absolute.

    data_dirs: folders searched in order for `<TICKER>.csv` (directly or under `prices/`).
    cache_dir: parsed-CSV cache and yfinance downloads (parquet).
    reports_dir: where tearsheets and index pages are written (AISHOCK_REPORTS overrides it).
    baskets: the project's own baskets file (`baskets` in the table, default baskets.toml
        beside the configuration; it need not exist).
    online: whether tickers missing locally may be downloaded with yfinance.
    risk_free: annual risk-free rate (fraction) used by every Sharpe/Sortino figure.
    trading_days: periods per year used for annualisation.
    windows: named (name, start, end) windows of the comparison table.
    demo: the runs of `aishock demo`, each {label, strategy, params}.
    max_combinations: the largest sweep grid evaluated; a bigger one is refused up front.
    """

    data_dirs: tuple[Path, ...]
    cache_dir: Path
    reports_dir: Path
    baskets: Path = Path("baskets.toml")
    benchmark: str = "SPY"
    risk_free: float = 0.0
    trading_days: int = TRADING_DAYS
    online: bool = True
    windows: tuple[tuple[str, str, str], ...] = ()
    demo: tuple[dict, ...] = ()
    max_combinations: int = 2_000_000

    @property
    def span(self) -> tuple[str | None, str | None]:
        """The default backtest span: the last named window (or the whole data)."""
        return (self.windows[-1][1], self.windows[-1][2]) if self.windows else (None, None)

    def with_data(self, data: str | os.PathLike | None) -> Config:
        """This config with its data folders replaced by `data` (os.pathsep-separated)."""
        if not data:
            return self
        dirs = tuple(Path(p).expanduser().resolve() for p in str(data).split(os.pathsep) if p)
        for d in dirs:
            if not d.is_dir():
                raise AishockError(f"data folder {d} does not exist: pass an existing folder")
        return replace(self, data_dirs=dirs)


def _symbol(value, path: Path) -> str:
    """The configured benchmark spelled as universes spell tickers (`spy` -> `SPY`)."""
    from engine.symbols import normalise_symbol

    try:
        return normalise_symbol(value)
    except AishockError:
        raise AishockError(f"{path}: benchmark = {value!r} is not a ticker symbol; fix the file") from None


def find_config(start: Path | None = None) -> Path | None:
    """The configuration file: AISHOCK_CONFIG if set (it must exist), else the first
    pyproject.toml with a `[tool.aishock]` table in `start` (the working directory) or a
    parent of it; None if there is none."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser().resolve()
        if not path.is_file():
            raise AishockError(
                f"{CONFIG_ENV} (--config) names {path}, which is not a file; name a pyproject.toml"
            )
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and b"[tool.aishock" in candidate.read_bytes():
            return candidate
    return None


def _aishock_table(path: Path) -> dict:
    """The `[tool.aishock]` table of `path`."""
    with path.open("rb") as f:
        try:
            return tomllib.load(f).get("tool", {}).get("aishock", {})
        except tomllib.TOMLDecodeError as e:
            raise AishockError(f"{path}: not valid TOML ({e}); fix the file") from None


_ENV = (CONFIG_ENV, "AISHOCK_DATA", "AISHOCK_REPORTS", "AISHOCK_OFFLINE")
_LOADED: dict[tuple, tuple[tuple, Config]] = {}


@functools.lru_cache(maxsize=64)
def _candidates(cwd: str, named: str) -> tuple[str, ...]:
    """The files load_config could read: `named`, else pyproject.toml in cwd and each parent."""
    if named:
        return (named,)
    out, folder = [], cwd
    while True:
        out.append(os.path.join(folder, "pyproject.toml"))
        parent = os.path.dirname(folder)
        if parent == folder:
            return tuple(out)
        folder = parent


def _key(data, pyproject) -> tuple:
    """What a loaded configuration is kept under: the arguments, the working directory and the
    AISHOCK_* variables (the files' stamps are checked beside it)."""
    return repr(data), str(pyproject), os.getcwd(), tuple(map(os.environ.get, _ENV))


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def load_config(data: str | os.PathLike | None = None, pyproject: Path | None = None) -> Config:
    """Read `[tool.aishock]` of `pyproject` (default: `find_config()`); then AISHOCK_DATA,
    then `data` (highest) replace the folders. `data_dirs` may be one folder (a string) or a
    list. Refuses a pyproject that is not TOML.

    The result is kept and returned again while the arguments, the working directory, the
    AISHOCK_* variables, the file it was read from and every candidate file nearer the
    working directory (the modification time and size of each; a nearer pyproject.toml that
    appears would be read instead) are unchanged: strategies resolve their universes once per
    parameter set, and each resolution reads the configuration."""
    key = _key(data, pyproject)
    cwd, env = key[2], key[3]
    candidates = _candidates(cwd, str(pyproject or env[0] or ""))
    kept = _LOADED.get(key)
    if kept is not None and tuple(map(_stamp, candidates[: len(kept[0])])) == kept[0]:
        return kept[1]
    stamps = tuple(map(_stamp, candidates))  # before reading: a change while reading reads again
    config = _read_config(data, pyproject)
    used = str(pyproject or find_config() or "")
    upto = candidates.index(used) + 1 if used in candidates else len(candidates)
    if len(_LOADED) > 32:
        _LOADED.clear()
    _LOADED[key] = (stamps[:upto], config)
    return config


def current() -> Config:
    """The configuration `load_config()` last returned for this working directory and these
    AISHOCK_* variables, without checking its files again (loaded if there is none): for the
    look-ups a strategy repeats per parameter set. Every command loads the configuration when
    it starts, so an edit of the file is seen by the next command."""
    kept = _LOADED.get(_key(None, None))
    return kept[1] if kept is not None else load_config()


def _read_config(data: str | os.PathLike | None, pyproject: Path | None) -> Config:
    path = pyproject or find_config() or Path.cwd() / "pyproject.toml"
    table = {}
    if path.is_file():
        table = _aishock_table(path)
    base = path.parent
    dirs = table.get("data_dirs", ["data/market"])

    def here(p: str) -> Path:
        return (base / p).resolve()

    cfg = Config(
        data_dirs=tuple(here(p) for p in ([dirs] if isinstance(dirs, str) else dirs)),
        cache_dir=here(table.get("cache_dir", "data/cache")),
        baskets=here(table.get("baskets", "baskets.toml")),
        reports_dir=Path(os.environ["AISHOCK_REPORTS"]).resolve()
        if os.environ.get("AISHOCK_REPORTS")
        else here(table.get("reports_dir", "reports/out")),
        benchmark=_symbol(table.get("benchmark", "SPY"), path),
        risk_free=float(table.get("risk_free", 0.0)),
        trading_days=int(table.get("trading_days", TRADING_DAYS)),
        online=os.environ.get("AISHOCK_OFFLINE", "") in ("", "0"),
        windows=tuple((name, str(a), str(b)) for name, (a, b) in table.get("windows", {}).items()),
        demo=tuple(table.get("demo", [])),
        max_combinations=int(table.get("max_combinations", 2_000_000)),
    )
    return cfg.with_data(os.environ.get("AISHOCK_DATA")).with_data(data)
