"""glance_store drivers of the store types ``aws`` and ``yandex`` (entry-point group
``glance_store.drivers``), loaded by glance-api in multi-backend mode."""
