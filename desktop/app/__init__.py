"""Start-up: the command line, sign-in, demo mode, opening the window."""
