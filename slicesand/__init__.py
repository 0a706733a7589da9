"""slicesand: forecast emergent abilities of LLMs with the Slice-and-Sandwich method.

The package is a pure library; the command line lives in :mod:`slicesand.cli`.
"""

__version__ = "0.1.0"
