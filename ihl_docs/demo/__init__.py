"""The illustrative demo case."""
