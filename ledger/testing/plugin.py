"""pytest plugin entry point (``pytest11``): the step library for agreement scenarios."""
