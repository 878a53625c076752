"""Pictures of the ledger's read models: the timeline drawn as HTML, SVG, PNG and text."""
