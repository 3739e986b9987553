"""What the demo runs beside the window: the local camera server."""
