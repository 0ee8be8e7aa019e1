"""Pure decisions over CloudManager's inventory: what a notification or a sync changes, the
free capacity it shows, whether it is fresh enough to plan from, which hosts join the reserve.

Plain data in (``cloud_manager.model.inventory``), plain data out; the listener, node_sync and
the readers do the I/O.
"""
