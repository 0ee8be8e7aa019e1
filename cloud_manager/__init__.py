"""CloudManager: keeps compute nodes and their instances alive and balanced."""
