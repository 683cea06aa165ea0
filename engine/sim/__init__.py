"""Weights into a portfolio: the execution rules (simulate.py's docstring is the rules text),
costs, the market arrays, and the compiled kernel that applies the rules (kernel.py)."""
