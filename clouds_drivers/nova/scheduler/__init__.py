"""Nova scheduler filters of the clouds drivers."""
