"""wrapix-tui: the Textual supervisor. Renders core models; implements nothing twice."""
