"""Sandboxes: a pure launch plan from (spec, host facts), and the runtimes that run it."""
