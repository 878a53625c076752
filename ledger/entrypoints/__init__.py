"""Entry points: the command line and the web view, thin layers over the application."""
