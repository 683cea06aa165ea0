"""Bad options and unwritable places: one line on stderr, exit status 2, no traceback, and (for
a sweep) before any computing; JSON never holds NaN or Infinity; messages about empty
windows say what the data really covers."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shlex
import tempfile

import numpy as np
import pytest
from cli_errors import one_line_error

from aishock.cli import main
from aishock.cli.jsonout import dumps, plain
from engine import AishockError
from engine.strategy import params

SPAN = "(data covers 2020-01-02..2025-12-31)"


SWEEP = ["sweep", "oversold_rebound", "--grid", "top_k=3,5"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # NaN, infinite and repeated parameters
        (
            ["run", "oversold_rebound", "--set", "min_drop=nan"],
            "parameter min_drop='nan' is not a finite number",
        ),
        (
            ["run", "oversold_rebound", "--set", "min_drop=inf"],
            "parameter min_drop='inf' is not a finite number",
        ),
        (["run", "oversold_rebound", "--set", "stop_loss=-inf"], "stop_loss='-inf' is not a finite number"),
        (["run", "inference_rotation", "--set", "fraction=NaN"], "fraction='NaN' is not a finite number"),
        (["run", "oversold_rebound", "--set", "top_k=inf"], "top_k='inf' is not a finite number"),
        (["run", "oversold_rebound", "--set", "top_k=3", "--set", "top_k=4"], "--set top_k is given twice"),
        # costs and cash
        (["run", "buy_and_hold", "--cash", "inf"], "--cash must be a finite number, got inf"),
        (["run", "buy_and_hold", "--cash", "nan"], "--cash must be a finite number, got nan"),
        (["run", "buy_and_hold", "--cash", "0"], "init_cash must be"),
        (["run", "buy_and_hold", "--cash", "-5"], "init_cash must be"),
        (["run", "buy_and_hold", "--fees", "nan"], "--fees must be a finite number, got nan"),
        (["run", "buy_and_hold", "--fees", "1e999"], "--fees must be a finite number, got inf"),
        (["run", "buy_and_hold", "--slippage=-inf"], "--slippage must be a finite number, got -inf"),
        (["run", "buy_and_hold", "--warmup", "-1"], "--warmup must be >= 0 trading days, got -1"),
        # options a sweep would silently ignore
        ([*SWEEP, "--grid", "top_k=4"], "--grid top_k is given twice ('3,5' and '4'); give it once"),
        ([*SWEEP, "--set", "top_k=4"], "top_k given both by --set and by --grid"),
        ([*SWEEP, "--anchored"], "--anchored only applies to --walk-forward FOLDS"),
        ([*SWEEP, "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler only applies to --executor dask"),
        ([*SWEEP, "--workers", "2"], "--workers only applies to --executor dask"),
        ([*SWEEP, "--executor", "dask", "--workers", "0"], "--workers must be at least 1, got 0"),
        ([*SWEEP, "--executor", "dask", "--workers", "-3"], "--workers must be at least 1, got -3"),
        (
            [*SWEEP, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"],
            "with --scheduler the cluster has its own",
        ),
        ([*SWEEP, "--walk-forward", "0"], "--walk-forward needs at least 1 fold, got 0"),
        ([*SWEEP, "--walk-forward", "3", "--out", "x.parquet"], "--out is not used with --walk-forward"),
        (
            [*SWEEP, "--walk-forward", "3", "--executor", "dask"],
            "--executor dask is not used with --walk-forward",
        ),
        ([*SWEEP, "--cash", "inf"], "--cash must be a finite number"),
        ([*SWEEP, "--warmup", "-2"], "--warmup must be >= 0"),
        # event study and shock scan thresholds
        (["event", "2025-01-27", "--min-drop", "nan"], "--min-drop must be a fraction"),
        (["event", "2025-01-27", "--max-market-drop", "inf"], "--max-market-drop must be a fraction"),
        (["shocks", "--min-drop", "nan"], "--min-drop must be a fraction"),
        (["shocks", "--max-market-drop", "-0.1"], "--max-market-drop must be a fraction"),
    ],
)
def test_options_without_sense_are_one_line(out_dir, capsys, no_sweep, argv, message):
    assert message in one_line_error(capsys, argv)


def test_a_swept_value_that_is_nan_is_refused(out_dir, capsys):
    err = one_line_error(capsys, ["sweep", "oversold_rebound", "--grid", "min_drop=0.05,nan"])
    assert "parameter min_drop='nan' is not a finite number" in err


def test_python_values_are_checked_too():
    from strategies.oversold_rebound import Params

    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(AishockError, match="is not a finite number"):
            params.make(Params, {"min_drop": bad})
    assert params.make(Params, {"min_drop": "0.05"}).min_drop == 0.05


def test_declared_bounds_are_checked():
    @dataclasses.dataclass(frozen=True)
    class P:
        days: int = params.param(5, "days", low=1)
        share: float = params.param(0.5, "share", low=0, high=1)

    assert params.make(P, {"days": "1", "share": "1"}) == P(1, 1.0)
    with pytest.raises(AishockError, match=r"parameter days='0' must be at least 1"):
        params.make(P, {"days": "0"})
    with pytest.raises(AishockError, match=r"parameter share=1.5 must be in \[0, 1\]"):
        params.make(P, {"share": 1.5})


# --- AISHOCK_BASKETS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "oversold_rebound", "--set", "universe=nuclear"],
        ["shocks", "--universe", "ai"],
        ["event", "2025-01-27", "--universe", "power"],
    ],
)
def test_a_missing_baskets_file_is_named(out_dir, capsys, tmp_path, monkeypatch, argv):
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("AISHOCK_BASKETS", str(missing))
    err = one_line_error(capsys, argv)
    assert f"AISHOCK_BASKETS names {missing}, which does not exist" in err


def test_a_baskets_file_that_is_a_folder_is_named(out_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AISHOCK_BASKETS", str(tmp_path))
    assert "which is a folder" in one_line_error(capsys, ["run", "buy_and_hold", "--set", "hold=ai"])


def test_a_baskets_file_that_exists_is_used(out_dir, capsys, tmp_path, monkeypatch):
    extra = tmp_path / "mine.toml"
    extra.write_text('[duo]\ntickers = ["NVDA", "AVGO"]\n')
    monkeypatch.setenv("AISHOCK_BASKETS", str(extra))
    argv = ["run", "buy_and_hold", "--set", "hold=duo", "--start", "2025-01-02", "--end", "2025-01-31"]
    assert main([*argv, "--no-tearsheet", "--json"]) == 0
    capsys.readouterr()


# --- where reports go ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "buy_and_hold", "--start", "2025-01-02", "--end", "2025-01-31"],
        ["run", "buy_and_hold", "--no-tearsheet"],
        SWEEP,
        ["event", "2025-01-27", "--universe", "power"],
        ["demo", "--no-progress"],
    ],
)
def test_a_reports_folder_that_is_a_file_is_one_line(capsys, tmp_path, monkeypatch, no_sweep, argv):
    blocker = tmp_path / "reports"
    blocker.write_text("a file")
    monkeypatch.setenv("AISHOCK_REPORTS", str(blocker))
    err = one_line_error(capsys, argv)
    assert f"cannot write reports to {blocker}: it is a file, not a folder" in err
    assert blocker.read_text() == "a file"


def test_a_reports_folder_under_a_file_is_one_line(capsys, tmp_path, monkeypatch, no_sweep):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("AISHOCK_REPORTS", str(tmp_path / "file" / "out"))
    assert "Not a directory" in one_line_error(capsys, SWEEP)


def test_an_unwritable_reports_folder_is_one_line(capsys, tmp_path, monkeypatch, no_sweep):
    """Refused permission (simulated: the tests may run as root, who may write anywhere)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and str(dir).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setenv("AISHOCK_REPORTS", str(locked))
    for argv in (["run", "buy_and_hold"], SWEEP):
        err = one_line_error(capsys, argv)
        assert f"cannot write reports to {locked}: Permission denied" in err


def test_missing_parents_of_the_reports_folder_are_created(capsys, tmp_path, monkeypatch):
    deep = tmp_path / "a" / "b" / "c"
    monkeypatch.setenv("AISHOCK_REPORTS", str(deep))
    argv = ["run", "buy_and_hold", "--start", "2025-01-02", "--end", "2025-01-31", "--no-tearsheet", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["equity_csv"].startswith(str(deep))


@pytest.mark.parametrize("case", ["folder", "under a file", "unwritable"])
def test_sweep_out_that_cannot_be_written_is_refused_before_computing(
    out_dir, capsys, tmp_path, monkeypatch, no_sweep, case
):
    if case == "folder":
        target, message = tmp_path, "is a folder; give a file name ending in .parquet"
    elif case == "under a file":
        (tmp_path / "file").write_text("")
        target, message = tmp_path / "file" / "r.parquet", "it is a file, not a folder"
    else:
        (tmp_path / "ro").mkdir()
        target, message = tmp_path / "ro" / "r.parquet", "Permission denied"
        real = tempfile.mkstemp

        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and str(dir) == str(tmp_path / "ro"):
                raise PermissionError(13, "Permission denied", str(dir))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    assert message in one_line_error(capsys, [*SWEEP, "--out", str(target)])


def test_event_csv_that_cannot_be_written_is_refused_before_the_study(out_dir, capsys, tmp_path, monkeypatch):
    import engine.events.study as study

    monkeypatch.setattr(study, "study", lambda *a, **k: pytest.fail("the study started"))
    (tmp_path / "file").write_text("")
    err = one_line_error(capsys, ["event", "2025-01-27", "--csv", str(tmp_path / "file" / "x.csv")])
    assert f"cannot write the --csv file to {tmp_path / 'file'}: it is a file, not a folder" in err
    assert "is a folder" in one_line_error(capsys, ["event", "2025-01-27", "--csv", str(tmp_path)])


# --- JSON -----------------------------------------------------------------------------------------


def test_json_has_null_for_nan_and_infinity():
    import numpy as np

    for bad in (math.nan, math.inf, -math.inf, np.float64("inf"), np.float32("nan")):
        assert plain(bad) is None
    text = dumps({"a": math.inf, "b": [1.0, -math.inf, {"c": math.nan}], "d": (np.float64(2.5),)})
    assert json.loads(text) == {"a": None, "b": [1.0, None, {"c": None}], "d": [2.5]}
    assert "Infinity" not in text and "NaN" not in text


def test_sweep_json_is_strict_json(out_dir, capsys):
    argv = [*SWEEP, "--grid", "hold_days=10,20", "--window", "2024-10-01:2025-06-30", "--json"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the JSON"))


# --- empty windows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["shocks", "--start", "2027-01-01", "--end", "2027-06-30"],
            f"no prices between 2027-01-01 and 2027-06-30 {SPAN}",
        ),
        (["shocks", "--start", "2026-02-01"], f"no prices from 2026-02-01 {SPAN}"),
        (["shocks", "--end", "2019-06-30"], f"no prices up to 2019-06-30 {SPAN}"),
        (
            ["shocks", "--start", "2025-01-04", "--end", "2025-01-05"],
            f"no prices between 2025-01-04 and 2025-01-05 {SPAN}",
        ),
        # a weekend window: the message used to give the span of the data cut at its end
        (
            [*SWEEP, "--window", "2025-01-04:2025-01-05"],
            f"no prices between 2025-01-04 and 2025-01-05 {SPAN}",
        ),
        (
            ["run", "buy_and_hold", "--start", "2025-01-04", "--end", "2025-01-05"],
            f"no prices between 2025-01-04 and 2025-01-05 {SPAN}",
        ),
        (
            [*SWEEP, "--window", "2031-01-01:2031-06-30"],
            f"no prices between 2031-01-01 and 2031-06-30 {SPAN}",
        ),
    ],
)
def test_an_empty_window_is_refused_saying_what_the_data_covers(out_dir, capsys, argv, message):
    assert message in one_line_error(capsys, argv)


# -- issue 18: messages that name what the user wrote --------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "oversold_rebound", "--set", "topk=5"],
        ["sweep", "oversold_rebound", "--grid", "topk=3,5"],
        ["sweep", "oversold_rebound", "--set", "topk=3", "--grid", "top_k=3,5"],
        ["sweep", "oversold_rebound", "--grid", "topk=3,5", "--walk-forward", "3"],
        ["generalize", "oversold_rebound", "--set", "topk=5"],
        ["generalize", "oversold_rebound", "--grid", "topk=3,5"],
    ],
)
def test_an_unknown_parameter_names_the_strategy(out_dir, capsys, no_sweep, argv):
    line = one_line_error(capsys, argv)
    assert "unknown parameter 'topk' for oversold_rebound; did you mean 'top_k'?" in line
    assert "Params" not in line


def test_the_python_api_names_the_strategy_too():
    from engine.backtest.run import param_sets
    from engine.strategy import registry

    spec = registry.get("oversold_rebound")
    with pytest.raises(AishockError, match="unknown parameter 'topk' for oversold_rebound; did you mean"):
        param_sets(spec, {"topk": 5})
    with pytest.raises(AishockError, match="for Params"):  # the class alone knows no strategy
        params.make(spec.params, {"topk": 5})


@pytest.mark.parametrize(
    ("argv", "example"),
    [
        (["sweep", "oversold_rebound", "--grid", "top_k=3-8"], "top_k=3:8:1"),
        (["sweep", "oversold_rebound", "--grid", "top_k=3..8"], "top_k=3:8:1"),
        (["sweep", "oversold_rebound", "--grid", "top_k=3:8"], "top_k=3:8:1"),
        (["generalize", "oversold_rebound", "--grid", "top_k=3-8"], "top_k=3:8:1"),
        (["sweep", "oversold_rebound", "--grid", "min_drop=0.04-0.08"], "min_drop=0.04:0.08:0.01"),
    ],
)
def test_a_grid_range_written_otherwise_is_shown_the_syntax(out_dir, capsys, no_sweep, argv, example):
    line = one_line_error(capsys, argv)
    assert "start:stop:step (stop included) or a comma list" in line
    assert f"e.g. {example}" in line


@pytest.mark.parametrize(
    ("argv", "day"),
    [
        (
            ["run", "buy_and_hold", "--set", "weight=3", "--start", "2024-01-02", "--end", "2024-06-28"],
            "2024-01-02",
        ),
        (
            ["run", "buy_and_hold", "--set", "weight=-2.5", "--start", "2025-03-03", "--end", "2025-06-30"],
            "2025-03-03",
        ),
        (
            ["sweep", "buy_and_hold", "--grid", "weight=1,3", "--window", "2024-01-02:2024-06-28"],
            "2024-01-02",
        ),
    ],
)
def test_gross_exposure_above_max_gross_names_a_day_of_the_window(out_dir, capsys, argv, day):
    """buy_and_hold decides on the first day of its warm-up, before the window: the refusal
    names the window's first day, where those weights take effect, not the warm-up's."""
    line = one_line_error(capsys, argv)
    assert "above max_gross 1" in line
    assert f"in effect on {day}, the window's first day" in line
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", line)
    assert dates == [day]


def test_gross_exposure_names_the_execution_day_when_only_the_decision_is_before_the_window():
    import pandas as pd

    from engine.strategy.schedule import Schedule

    index = pd.bdate_range("2024-01-01", periods=10)
    # decided on bar 2 (executed on bar 3), bar 3 is the window's first
    s = Schedule.from_parts(index, ["A", "B"], [np.array([3, 3])], [np.array([0, 1])], [np.array([1.0, 1.0])])
    with pytest.raises(AishockError, match=f"executed on {index[3].date()} \\(decided the day before"):
        s.check(1.0, first=3)
    with pytest.raises(AishockError, match=f"decided on {index[2].date()}"):
        s.check(1.0, first=2)
    with pytest.raises(AishockError, match=f"decided on {index[2].date()}"):
        s.check(1.0)  # no window given: the decision date, as before
    with pytest.raises(AishockError, match=f"in effect on {index[5].date()}, the window's first day"):
        s.check(1.0, first=np.array([5]))


@pytest.mark.parametrize("command", ["list", "run", "demo", "sweep", "event", "shocks", "generalize"])
def test_every_help_ends_with_an_example_that_parses(capsys, command):
    from aishock.cli import parser

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert re.search(r"^examples?:$", text, re.MULTILINE)
    lines = [line.strip() for line in text.splitlines() if line.startswith(f"  aishock {command}")]
    assert lines
    for line in lines:
        args = parser().parse_args(shlex.split(line)[1:])  # argparse exits on a bad line
        assert args.command == command


def test_sweep_help_lists_the_metrics_and_the_windows(capsys, cfg):
    from engine.analytics import run_stats

    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for metric in run_stats.BETTER:
        assert metric in text
    assert "highest is best: total_return" in text and "lowest is best: volatility" in text
    assert cfg.windows
    for name, _, _ in cfg.windows:
        assert name in text


def test_a_mistyped_basket_near_no_basket_lists_the_baskets(out_dir, capsys):
    """No basket is called 'nuclear' by default (it is the README's example of a user
    basket), so 'nucelar' is near no basket and is read as a ticker: the refusal lists the
    baskets instead of only saying that NUCELAR could not be found or downloaded."""
    line = one_line_error(capsys, ["run", "oversold_rebound", "--set", "universe=nucelar"])
    assert "unknown ticker NUCELAR" in line
    assert "if it was meant as a basket: the baskets are power, grid," in line


def test_a_near_miss_of_a_user_basket_says_did_you_mean(out_dir, capsys, monkeypatch, tmp_path):
    """With the README's user basket [nuclear] the near miss is refused before any price is
    read (the cutoff, 0.8, and the lower-casing were never the problem)."""
    path = tmp_path / "baskets.toml"
    path.write_text('[nuclear]\ntickers = ["CEG", "TLN", "OKLO", "SMR", "CCJ"]\n')
    monkeypatch.setenv("AISHOCK_BASKETS", str(path))
    for argv in (
        ["run", "oversold_rebound", "--set", "universe=nucelar"],
        ["run", "oversold_rebound", "--set", "universe=NUCELAR"],
        ["run", "buy_and_hold", "--set", "hold=nucelar"],
    ):
        line = one_line_error(capsys, argv)
        assert "is neither a basket nor a ticker with prices; did you mean 'nuclear'?" in line
