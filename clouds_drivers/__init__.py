"""Code that Nova, Cinder, Glance and Neutron load to drive AWS and Yandex.Cloud."""
