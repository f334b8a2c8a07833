"""Models the tests broadcast from."""
