"""Dashboard widgets: one pane or bar per module."""
