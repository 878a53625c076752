"""The Gherkin step library, shipped as a pytest plugin."""
