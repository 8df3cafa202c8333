"""The Textual TUI of beicoder. Talks to :mod:`beicoder.core` only."""
