"""The aishock application: the command line (cli/) and the demo, on top of reports,
strategies and the engine (it imports them; nothing imports it)."""
