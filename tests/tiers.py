"""The suite's three tiers. Every test carries exactly one of these markers (registered in
pyproject.toml), given here at collection:

- `unit`: in-process, on synthetic data or files the test writes; no market snapshot, no
  browser, no process of the application. `make test-fast` runs this tier with the snapshot
  hidden (AISHOCK_DATA pointing at an empty folder), so a unit test that reads it fails.
- `integration`: in-process against the market snapshot (../shared/market), commands run
  through `main()` included.
- `e2e`: the application as a user meets it: the installed `aishock` command in a process of
  its own, `aishock demo`, pages in Chromium, the notebook, real Dask scheduler processes.

A test takes its file's tier from TIERS, unless its file's entry names it under another
tier (by function name, all its parametrisations). A test file missing from TIERS stops the
collection: a new file must be classified here (tests/test_tiers.py checks the table).

Under pytest-xdist, `make test` runs `-n auto --dist loadfile --no-loadscope-reorder`: each
file on one worker, so a module-scoped fixture is built once, and the files in the order of
the collection, where the tests that read the session's `aishock demo` runs come first
(`pytest_collection_modifyitems` below): one worker starts the two demos at once while the
others run the rest, and conftest.demo_runs' file lock makes every worker read that one pair.
(xdist 3.8's `loadgroup` would group tests by marker, but it marks a group in the node id
through an attribute pytest 9 no longer reads, so its groups are ignored.)"""

from __future__ import annotations

import pytest

NAMES = ("unit", "integration", "e2e")
DEMO_FIXTURES = {"demo_runs", "demo_reports"}  # tests/conftest.py's session demo runs

# file -> its tier, or (its tier, {another tier: the tests of the file in that tier})
TIERS: dict[str, str | tuple[str, dict[str, tuple[str, ...]]]] = {
    "test_attribution.py": (
        "integration",
        {
            "unit": (
                "test_two_roles_at_the_close_equal_a_hand_calculation",
                "test_open_fills_split_the_trade_from_its_costs_by_hand",
                "test_a_wipe_out_day_books_the_write_off_below_zero_in_cash_and_costs",
                "test_the_benchmark_itself_has_no_allocation_and_no_selection",
            )
        },
    ),
    "test_bad_options.py": (
        "unit",
        {
            "integration": (
                "test_a_baskets_file_that_exists_is_used",
                "test_an_empty_window_is_refused_saying_what_the_data_covers",
                "test_missing_parents_of_the_reports_folder_are_created",
                "test_sweep_json_is_strict_json",
                "test_gross_exposure_above_max_gross_names_a_day_of_the_window",
                "test_sweep_help_lists_the_metrics_and_the_windows",
            )
        },
    ),
    "test_baskets.py": "unit",
    "test_benchmark_job.py": "integration",
    "test_browser_pages.py": "e2e",
    "test_cache.py": (
        "unit",
        {
            "integration": (
                "test_a_writer_killed_mid_write_does_not_break_the_next_load",
                "test_two_processes_loading_through_one_cache_get_correct_frames",
                "test_a_concurrent_write_while_parsing_never_loses_an_entry",
                "test_all_538_tickers_twice_are_identical_and_the_second_load_parses_nothing",
            )
        },
    ),
    "test_clean.py": "unit",
    "test_cli.py": (
        "integration",
        {
            "unit": (
                "test_list_shows_every_strategy_with_parameter_defaults",
                "test_malformed_csv_is_one_line_naming_the_file",
            ),
            "e2e": ("test_installed_command_exits_2_without_traceback",),
        },
    ),
    "test_config.py": (
        "e2e",
        {
            "unit": (
                "test_strategies_and_their_baskets_come_from_the_installed_declarations",
                "test_no_module_finds_files_through_the_source_tree",
            ),
            "integration": ("test_the_projects_own_baskets_file_sits_beside_its_configuration",),
        },
    ),
    "test_crossevent.py": "unit",
    "test_decided.py": "unit",
    "test_dask_cluster.py": "e2e",
    "test_data_checks.py": (
        "integration",
        {
            "unit": (
                "test_a_foreign_listing_keeps_its_weekend_rows",
                "test_delisting_lines_group_tickers_that_end_together",
                "test_the_calendar_knows_holidays_and_unscheduled_closures",
                "test_warnings_print_once_each_on_stderr",
                "test_which_symbols_follow_the_nyse_calendar",
                "test_without_the_calendar_library_a_parse_is_one_line",
            )
        },
    ),
    "test_data_panel.py": "integration",
    "test_engine.py": (
        "unit",
        {
            "integration": (
                "test_parameter_sets_are_columns_of_one_run_and_equal_single_runs",
                "test_result_weights_are_holdings_over_equity",
                "test_to_vectorbt_gives_the_same_equity",
                "test_to_vectorbt_refuses_what_vectorbt_cannot_express",
                "test_stats_from_the_accumulators_equal_the_metrics_of_the_equity_curve",
                "test_a_position_in_a_ticker_whose_data_ends_is_closed_at_its_last_close",
            )
        },
    ),
    "test_event_cli.py": (
        "integration",
        {
            "unit": (
                "test_a_membership_file_without_symbols_is_one_line",
                "test_an_empty_universe_is_one_line",
            )
        },
    ),
    "test_event_page.py": (
        "integration",
        {
            "e2e": (
                "test_charts_render_in_headless_chromium",
                "test_a_console_error_is_caught",
                "test_the_member_table_sorts_by_a_clicked_header_in_a_bounded_box",
            )
        },
    ),
    "test_event_study.py": (
        "integration",
        {
            "unit": (
                "test_event_position_refusals",
                "test_market_model_needs_enough_estimation_days",
                "test_parse_window",
                "test_parse_window_refuses_malformed_windows",
                "test_statuses_unchanged_names_recovery_and_clipping_on_a_small_frame",
            )
        },
    ),
    "test_generalize.py": (
        "integration",
        {
            "unit": (
                "test_scaled_rule_flags_a_drop_beyond_k_sd_only_with_the_filters",
                "test_scaled_rule_needs_enough_history",
                "test_scaled_rule_uses_no_later_data",
            )
        },
    ),
    "test_generalize_page.py": "unit",
    "test_golden.py": "integration",
    "test_hostile_cli.py": (
        "unit",
        {
            "integration": (
                "test_equity_that_overflows_is_refused_not_reported_as_nan",
                "test_pbo_ranks_by_the_metric_in_its_direction",
                "test_the_best_max_drawdown_is_the_smallest_loss",
                "test_the_best_of_a_lower_is_better_metric_is_the_lowest",
                "test_the_python_api_counts_a_range_before_building_it",
                "test_walk_forward_chooses_the_lowest_volatility",
                "test_a_benchmark_is_spelled_like_a_universe_ticker",
                "test_a_market_parameter_is_spelled_like_a_universe_ticker",
                "test_a_repeated_grid_value_is_not_a_second_trial",
                "test_the_largest_cash_runs",
                "test_the_options_each_scan_uses_still_work",
                "test_the_sweep_table_lists_the_lowest_volatility_first",
            ),
            "e2e": (
                "test_an_unexpected_exception_in_the_installed_command_is_one_line",
                "test_the_installed_command_prints_no_raw_warning",
                "test_the_sweep_command_fails_in_one_line_on_a_silent_or_foreign_peer",
                "test_a_scheduler_without_workers_is_one_line_after_the_deadline",
                "test_a_real_scheduler_passes_the_probe",
            ),
        },
    ),
    "test_hostile_inputs.py": (
        "unit",
        {"integration": ("test_real_yfinance_file_under_another_tickers_name_is_refused",)},
    ),
    "test_hostile_outputs.py": (
        "integration",
        {
            "unit": (
                "test_a_folder_or_a_socket_is_refused_in_one_line",
                "test_a_parquet_or_csv_named_html_is_refused_before_computing",
                "test_csv_safe_quotes_text_that_starts_a_formula_and_leaves_numbers",
                "test_generalize_csv_neutralises_formula_cells",
                "test_the_tearsheet_escapes_its_label",
                "test_the_tearsheet_refers_to_no_other_site",
                "test_two_outputs_on_one_file_are_refused",
            ),
            "e2e": ("test_csv_to_dev_stdout_prints_it",),
        },
    ),
    "test_intervals.py": "unit",
    "test_kernel_rules.py": "unit",
    "test_layers.py": "unit",
    "test_metrics.py": "unit",
    "test_multiple.py": "unit",
    "test_no_lookahead.py": "integration",
    "test_notebook.py": "e2e",
    "test_overfit.py": "unit",
    "test_pages.py": (
        "unit",
        {
            "integration": ("test_index_shows_intervals_role_contributions_and_brinson",),
            "e2e": ("test_index_and_sweep_pages_render_and_hover",),
        },
    ),
    "test_palette.py": "unit",
    "test_peer_bt.py": "integration",
    "test_peer_zipline.py": "unit",
    "test_plateau.py": "unit",
    "test_point_in_time.py": ("integration", {"unit": ("test_membership_file_gives_both_dates",)}),
    "test_readme.py": (
        "integration",
        {"unit": ("test_readme_names_the_two_commands", "test_readme_names_the_fast_tier_beside_them")},
    ),
    "test_reference_sim.py": (
        "integration",
        {
            "unit": (
                "test_random_schedules_match_reference",
                "test_random_long_short_leveraged_schedules_match_reference",
                "test_delisted_holding_marked_at_last_close_when_sizing",
                "test_no_order_is_placed_at_an_execution_bar_with_negative_equity",
                "test_orders_of_at_most_1e12_shares_are_not_placed",
                "test_delisted_short_is_covered_in_full_without_leverage",
            )
        },
    ),
    "test_volume_rules.py": "unit",
    "test_capacity.py": (
        "integration",
        {
            "unit": (
                "test_capital_levels",
                "test_bad_capital_levels_are_refused_in_one_line",
                "test_the_halving_capital",
                "test_days_to_liquidate_are_shares_over_the_cap_times_the_20_day_adv",
                "test_every_capital_level_in_one_call_equals_its_own_run",
            )
        },
    ),
    "test_relative.py": (
        "unit",
        {
            "integration": (
                "test_a_runs_stats_measure_it_against_the_configured_benchmark",
                "test_a_benchmark_missing_from_the_prices_given_is_refused_in_one_line",
            )
        },
    ),
    "test_report_sets.py": (
        "integration",
        {
            "unit": ("test_flat_series_give_a_tearsheet_with_a_note",),
            "e2e": ("test_a_run_killed_at_any_point_leaves_only_complete_sets",),
        },
    ),
    "test_reproducibility.py": "e2e",
    "test_spa.py": "unit",
    "test_strategies.py": (
        "integration",
        {
            "unit": (
                "test_string_overrides_convert_to_declared_types",
                "test_unknown_parameter_gets_a_did_you_mean",
                "test_unknown_strategy_gets_a_did_you_mean",
            )
        },
    ),
    "test_strategy_oracles.py": "integration",
    "test_sweep.py": (
        "integration",
        {
            "unit": (
                "test_cli_sweep_bad_range_is_one_line",
                "test_cli_sweep_refuses_a_huge_grid_in_one_line",
                "test_fold_bounds_do_not_overlap",
                "test_guards_flag_edges_and_isolated_peaks_but_not_plateaus",
                "test_a_heatmap_fixes_the_other_swept_parameters_and_never_averages",
            )
        },
    ),
    "test_trades.py": (
        "integration",
        {
            "unit": (
                "test_a_partial_close_and_a_reversal_by_hand",
                "test_a_sale_closes_the_oldest_lot_first",
                "test_fees_split_in_proportion_to_shares_and_an_open_trade_is_marked_at_the_last_close",
                "test_a_run_without_orders_has_no_trades",
                "test_summary_by_trade_on_a_table_of_trades",
                "test_exposure_of_several_runs_is_labelled_by_run_and_measure",
            )
        },
    ),
    "test_tearsheet.py": (
        "unit",
        {
            "integration": (
                "test_sharpe_and_max_drawdown_agree",
                "test_stats_equal_quantstats_functions_to_machine_precision",
                "test_the_benchmark_column_is_close_to_close_and_a_note_says_why_a_run_of_it_differs",
            )
        },
    ),
    "test_tiers.py": "unit",
    "test_vectorbt_equality.py": (
        "integration",
        {
            "unit": (
                "test_random_long_only_schedules_match_vectorbt",
                "test_random_unlevered_long_short_schedules_match_vectorbt",
            )
        },
    ),
    "test_views.py": (
        "integration",
        {"unit": ("test_a_generalisation_writes_its_page",)},
    ),
    "test_yahoo_source.py": "unit",
}


def tier_of(file: str, test: str, table: dict = TIERS) -> str:
    """The tier of test function `test` of test file `file` (a base name); a file missing
    from `table` is a usage error."""
    entry = table.get(file)
    if entry is None:
        raise pytest.UsageError(
            f"tests/{file} has no tier: add it to TIERS in tests/tiers.py ({', '.join(NAMES)})"
        )
    tier, others = (entry, {}) if isinstance(entry, str) else entry
    return next((t for t, tests in others.items() if test in tests), tier)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by tier
def pytest_collection_modifyitems(config, items):
    for item in items:
        marked = [m.name for m in item.iter_markers() if m.name in NAMES]
        if marked:
            raise pytest.UsageError(
                f"{item.nodeid}: marked {', '.join(marked)} by hand; tiers are given in tests/tiers.py"
            )
        item.add_marker(tier_of(item.path.name, getattr(item, "originalname", item.name)))
    items.sort(key=lambda item: not reads_the_session_demo(item))  # stable: else as collected


def reads_the_session_demo(item) -> bool:
    """Whether `item` asks for conftest's session-scoped demo runs (a test module may have a
    fixture of its own under the same name)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        info.name2fixturedefs[name][-1].scope == "session"
        for name in DEMO_FIXTURES & set(item.fixturenames)
        if name in info.name2fixturedefs
    )
