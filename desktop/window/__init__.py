"""The one screen: composes the panels and routes the change feed."""
