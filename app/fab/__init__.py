"""What adapts Flask-AppBuilder to gridgov: a FAB upgrade is checked here."""
