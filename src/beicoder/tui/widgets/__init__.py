"""The widgets of the TUI, one per module; each draws what a screen hands it and holds no
study state of its own beyond what it needs to redraw cheaply."""
