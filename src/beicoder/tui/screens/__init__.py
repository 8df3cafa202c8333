"""The screens of the TUI: coding, consensus, analysis, and the dialogs they open."""
