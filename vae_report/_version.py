"""The package's version, in a leaf module every other module may import (pyproject.toml holds the same)."""

__version__ = "0.1.0"
