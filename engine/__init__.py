"""aishock engine: data in, target weights to a simulated portfolio, stats out."""
