"""The plug-in API a strategy is written against: parameters (params), the registry that finds
strategies (registry) and the sparse target weights a strategy hands the engine (schedule)."""
