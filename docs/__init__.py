"""The documentation's own code: `python -m docs.generate` writes the generated pages."""
