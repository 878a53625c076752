"""Presentation: what people and programs read (JSON shapes, tables, pictures)."""
