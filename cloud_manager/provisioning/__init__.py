"""Pure decisions of bare-node provisioning: the per-MAC PXE file, the DHCP lease of a MAC,
and the next step of a provisioning task from what it observed (no I/O here)."""
