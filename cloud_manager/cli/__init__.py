"""``openstack aos node|power-device|task|event …``: the CloudManager API from the command line."""
