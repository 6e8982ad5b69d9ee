"""Tools the tests, benchmarks and scripts share: the app served to Chromium, tiny models."""
