"""The pure core: values, events, the projected state and the folds between them."""
