"""User baskets files are read strictly (engine.data.universe): case-insensitive names, no name
that shadows a ticker, booleans that are booleans, explicit membership in `ai`, and every
problem one line naming the file and the table."""

from __future__ import annotations

import pytest

from aishock.cli import main
from engine import AishockError
from engine.data.universe import baskets, resolve


@pytest.fixture
def user_baskets(tmp_path, monkeypatch):
    """Write a baskets file and point AISHOCK_BASKETS at it."""

    def write(text: str):
        path = tmp_path / "mine.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("AISHOCK_BASKETS", str(path))
        return path

    return write


README_EXAMPLE = """
[nuclear]
description = "Nuclear power"
tickers = ["CEG", "TLN", "OKLO", "SMR", "CCJ"]
"""


def test_the_readme_example_changes_no_default_universe(user_baskets, monkeypatch):
    monkeypatch.delenv("AISHOCK_BASKETS", raising=False)
    before = resolve("ai")
    user_baskets(README_EXAMPLE)
    assert resolve("nuclear") == ["CEG", "TLN", "OKLO", "SMR", "CCJ"]
    assert resolve("ai") == before
    assert not {"OKLO", "SMR", "CCJ"} & set(resolve("ai"))


def test_a_basket_joins_ai_only_when_it_says_so(user_baskets):
    user_baskets('[nuclear]\ntickers = ["OKLO", "SMR"]\nin_ai = true\n')
    assert {"OKLO", "SMR"} <= set(resolve("ai"))


def test_names_are_case_insensitive(user_baskets):
    user_baskets('[Nuclear]\ntickers = ["OKLO", "SMR"]\n')
    assert resolve("Nuclear") == resolve("nuclear") == resolve("NUCLEAR") == ["OKLO", "SMR"]
    assert "nuclear" in baskets()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[spy]\ntickers = ["NVDA"]\n', "basket [spy] has the name of the ticker SPY"),
        ('[NVDA]\ntickers = ["AMD"]\n', "basket [nvda] has the name of the ticker NVDA"),
        ('[nuclear]\ntickers = ["OKLO"]\nin_ai = "false"\n', "in_ai = 'false' is not a boolean"),
        ('[nuclear]\ntickers = ["OKLO"]\nin_ai = 0\n', "in_ai = 0 is not a boolean"),
        ('[nuclear]\ntickers = ["OKLO"]\nticker = ["SMR"]\n', "unknown key 'ticker'; did you mean"),
        ("[nuclear]\ntickers = []\n", "tickers must be a non-empty list of strings"),
        ('[nuclear]\ntickers = ["OKLO", 3]\n', "tickers must be a non-empty list of strings"),
        ('[Nuclear]\ntickers = ["OKLO"]\n[nuclear]\ntickers = ["SMR"]\n', "the name 'nuclear' is used twice"),
        ('[ai]\ntickers = ["OKLO"]\n', "the name 'ai' is used twice"),
        ('[nuclear]\ntickers = ["OK LO"]\n', "'OK LO' is not a ticker symbol"),
        ("[nuclear\n", "cannot read baskets file"),
    ],
)
def test_a_bad_baskets_file_is_one_line_naming_file_and_table(user_baskets, capsys, text, message):
    path = user_baskets(text)
    with pytest.raises(AishockError) as info:
        baskets()
    assert message in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)
    argv = ["run", "buy_and_hold", "--set", "hold=SPY", "--start", "2025-01-02", "--end", "2025-01-31"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_near_miss_of_a_basket_name_says_did_you_mean(user_baskets):
    user_baskets(README_EXAMPLE)
    with pytest.raises(AishockError, match=r"'nucelar' is neither a basket.*did you mean 'nuclear'"):
        resolve("nucelar")
    with pytest.raises(AishockError, match="did you mean 'power'"):
        resolve("powr")
