"""The check every bad-input test makes: the command ends with one line and status 2."""

from __future__ import annotations

from aishock.cli import main


def one_line_error(capsys, argv: list[str]) -> str:
    """Run `aishock ARGV`; assert it exits 2 with exactly one `aishock: error:` line and no
    traceback on stderr; return that line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("aishock: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err.strip()
