"""Neutron drivers: ML2 mechanism driver ``aws``, extension driver ``subnet_az`` and the
service plugin ``aws_router`` (spec 000, "Neutron driver connection")."""
