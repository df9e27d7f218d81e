"""mailtab test suite."""
