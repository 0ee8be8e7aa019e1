"""``openstack aos clouds …`` commands (python-openstackclient plugin ``aos``)."""
