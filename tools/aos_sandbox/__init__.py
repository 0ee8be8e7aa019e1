"""The AOS OpenStack sandbox: an all-in-one cloud on 127.0.0.1 for development and tests."""
