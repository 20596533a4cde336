"""Command-line front ends. Each module is one console script; all share :mod:`.base`."""
