"""The diagnosis battery: runs with the verdict an expert gives them (see README.md)."""
