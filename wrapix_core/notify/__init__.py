"""Notifications: protocol, daemon, client, focus detection, desktop backends, inbox."""
