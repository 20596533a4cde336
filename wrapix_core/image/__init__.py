"""The image builder: a profile's tools, Claude Code and wrapix itself, content-addressed."""
