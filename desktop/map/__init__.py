"""The map: the page built once, the view fed over QWebChannel."""
