"""Screens: the dashboard, the modals, logs and help (each created on first use)."""
