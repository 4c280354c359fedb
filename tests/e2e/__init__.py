"""Browser checks run on demand (`make e2e`), not by the test suite."""
