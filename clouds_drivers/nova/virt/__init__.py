"""Nova compute drivers whose instances live in a public cloud (``compute_driver``)."""
