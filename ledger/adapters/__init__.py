"""The edges: files, storage and the terminal."""
