"""The case detail and its step dialogs."""
