"""crashgate: a pluggable REST gateway for crash data."""
__version__ = "0.1.0"
