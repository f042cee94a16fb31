"""Domain-free helpers every package shares: validators, Excel machinery."""
