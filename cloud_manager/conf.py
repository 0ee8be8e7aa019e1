"""CloudManager options: sections, names and defaults as the module's documentation lists them."""

from __future__ import annotations

import socket

from oslo_config import cfg

from aos.conf.api import api_opts, database_opts
from aos.conf.opts import lister

STRATEGIES = ("auto", "reserved_host", "auto_priority", "rh_priority")

default_opts = [
    cfg.ListOpt(
        "dhcp_leases",
        default=["/var/lib/dhcp/dhcpd/state/dhcpd.leases", "/var/lib/dhcp/dhcpd.leases"],
        help="Paths of the ISC DHCP server's .leases files: `node add` finds the address a "
        "PXE-booted node leased there. Missing files are skipped; none readable fails the "
        "provisioning task.",
    ),
]

agent_opts = [
    cfg.IntOpt("agent_confirm_timeout", default=10, min=1,
               help="Seconds a controller waits for a node agent to confirm it is there (a "
               "ping over the message broker) before each command; tried connect_attempts "
               "times."),
    cfg.IntOpt("agent_response_timeout", default=60, min=1,
               help="Seconds a controller waits for a node agent's answer to a command; the "
               "agent stops a local command (e.g. the restart of nova-compute) 2 s before."),
    cfg.FloatOpt("backoff_factor", default=0.3, min=0,
                 help="Growth of the wait between attempts to reach a node agent: "
                 "backoff_factor * 2 ** attempt seconds."),
    cfg.IntOpt("connect_attempts", default=3, min=1,
               help="Attempts to get a node agent's confirmation before it counts as "
               "unavailable."),
    cfg.StrOpt("restart_nova_compute_command",
               default="systemctl restart openstack-nova-compute",
               help="Command the node agent runs (no shell, split like one) when a controller "
               "asks it to restart nova-compute."),
    cfg.StrOpt("stop_nova_compute_command", default="systemctl stop openstack-nova-compute",
               help="Command the node agent runs when a controller asks it to prepare for a "
               "planned shutdown (nova-compute takes no new work and stops cleanly)."),
    cfg.BoolOpt("enabled", default=False,
                help="Use the node agent: its heartbeat and instance-state file count as "
                "evidence that a node is alive; on a controller, ask the node's agent over "
                "the message broker to prepare a planned shutdown and to restart a silent "
                "nova-compute, and allow `openstack aos node agent`; on a node, serve those "
                "commands (with [DEFAULT] transport_url)."),
    cfg.IntOpt("restart_compute_interval", default=600, min=0,
               help="On a controller with [agent] enabled: when a node's nova-compute is down "
               "while its agent is alive, the node tracker asks the agent to restart "
               "nova-compute, then at most once per this many seconds while it stays down. "
               "Nodes in maintenance, disabled in Nova (reserve nodes excepted) or with a "
               "task are left alone. 0: never ask."),
    cfg.StrOpt("logfile", default="", help="Log file of aos-cloud-manager-agent."),
    cfg.IntOpt("heartbeat_interval", default=10, min=1,
               help="Seconds between two instance-state files written by the node agent."),
    cfg.StrOpt("host", default=socket.gethostname(), sample_default="<hostname>",
               help="Name of this compute node as Nova knows it (the node agent's host)."),
    cfg.StrOpt("instance_source", default="libvirt",
               choices=[("libvirt", "Ask the local libvirt (virsh) which domains run."),
                        ("nova", "Ask Nova's API (for hypervisors without libvirt, and the "
                                 "development sandbox).")],
               help="Where the node agent learns which instances run on its node."),
    cfg.StrOpt("libvirt_uri", default="qemu:///system",
               help="libvirt connection the node agent lists domains through (virsh -c)."),
]

balancing_opts = [
    cfg.FloatOpt("approx", default=0.1, min=0, max=1,
                 help="Balancing accuracy: a node is loaded when its RAM usage "
                 "ratio exceeds the aggregate's ratio plus approx."),
    cfg.BoolOpt("enabled", default=False,
                help="Balance RAM load inside flagged host aggregates."),
    cfg.IntOpt("migration_retries", default=3, min=0,
               help="Attempts to live-migrate one instance."),
    cfg.IntOpt("periodic_time", default=24, min=1, help="Hours between two balancing runs."),
    cfg.IntOpt("max_migrations", default=20, min=1,
               help="Most live migrations one balancing run plans (and runs, one at a time); "
               "what is left is planned by the next run."),
]

drs_opts = [
    cfg.HostAddressOpt("host", help="Host of the DRS system (OpenStack Watcher's API). Unset: "
                       "Watcher's endpoint (service type infra-optim) from the Keystone "
                       "catalog."),
    cfg.StrOpt("password", secret=True, help="Password of the DRS user."),
    cfg.PortOpt("port", default=80, help="Port of the DRS system's API (with host; "
                "watcher-api listens on 9322 unless configured otherwise)."),
    cfg.StrOpt("username", help="DRS user, authenticated by Keystone in the [openstack] "
               "project and domains (it needs Watcher's admin role to apply action plans). "
               "Unset: the [openstack] service user."),
]

drs_trigger_opts = [
    cfg.BoolOpt("enabled", default=True,
                help="Apply the live migrations of Watcher's recommended action plans "
                "automatically (on the leader controller)."),
    cfg.StrOpt("logfile", default="",
               help="Log file of the automatic application of action plans."),
    cfg.IntOpt("trigger_interval", default=600, min=1,
               help="Seconds between two looks for recommended action plans."),
]

extra_availability_check_opts = [
    cfg.IntOpt("attempts", default=2, min=1,
               help="Attempts to read a compute node's instance-state file."),
    cfg.IntOpt("delay", default=60, min=0,
               help="Seconds between two attempts to read the instance-state file."),
    cfg.BoolOpt("enabled", default=False,
                help="Before evacuating, check through shared storage whether the node's "
                "instances still run."),
    cfg.IntOpt("instance_rate", default=100, min=0, max=100,
               help="Percentage of the node's instances that must be reported running for "
               "the node to count as alive."),
    cfg.StrOpt("storage_path", default="/var/lib/nova/instances/aos",
               help="Directory on shared storage where node agents write instance-state files."),
]

host_tasks_opts = [
    cfg.BoolOpt("allow_evacuate_host", default=True, help="Allow evacuation of hosts."),
    cfg.ListOpt("deny_evacuate", default=[], help="Hosts that are never evacuated."),
    cfg.IntOpt("evacuation_retries", default=2, min=0,
               help="Attempts to evacuate one instance."),
    cfg.IntOpt("prioritized_evacuation_timeout", default=60, min=0,
               help="Seconds to wait between evacuating two groups of instances with different "
               "recovery priorities (less if the group is already active)."),
    cfg.IntOpt("recovery_priority", default=5, min=0, max=10,
               help="Recovery priority of instances that set none (0 = never evacuate, "
               "10 = first)."),
    cfg.IntOpt("retries_wait_for_node_state", default=240, min=1,
               help="Checks of a hypervisor's power state, 0.25 s apart, after powering it "
               "off to fence it; still on after that, the fencing fails and nothing is "
               "evacuated."),
    cfg.IntOpt("retries_wait_for_vm_status", default=60, min=1,
               help="Polls of an instance's status before giving up."),
    cfg.StrOpt("evacuation_strategy", default="auto", choices=STRATEGIES,
               help="Where evacuated instances go: auto (any host), reserved_host (reserve "
               "nodes only), auto_priority (any host, then reserve nodes), rh_priority "
               "(reserve nodes, then any host)."),
    cfg.IntOpt("task_lease_time", default=30, min=5,
               help="Seconds a worker holds a host task without renewing it; after that a "
               "dead worker's task is resumed by another."),
    cfg.FloatOpt("poll_interval", default=1.0, min=0.1,
                 help="Seconds between two polls of an instance or hypervisor state."),
    cfg.IntOpt("max_parallel_evacuations", default=0, min=0,
               help="Evacuations of one host in flight at once (0: a whole priority group "
               "at once). Nova rebuilds evacuated instances faster when not flooded."),
    cfg.IntOpt("evacuation_request_threads", default=2, min=1,
               help="Evacuation requests sent to Nova's API at the same time. A few at a "
               "time keep nova-api, nova-conductor and the scheduler streaming; many at once "
               "slow a failover down. Set 1 with a single nova-api worker; raise it with many "
               "API workers and large hosts (measurements: docs/instance-ha.md)."),
]

listener_opts = [
    cfg.StrOpt("logfile", default="", help="Log file of aos-cloud-manager-listener."),
    cfg.StrOpt("nova_rabbit_vhost", default="/", help="RabbitMQ virtual host of Nova."),
    cfg.StrOpt("nova_transport_url", secret=True,
               help="Nova's message bus. Unset: [DEFAULT] transport_url with its virtual host "
               "replaced by nova_rabbit_vhost."),
    cfg.IntOpt("workers", default=2, min=1,
               help="Listener processes on this controller. They share one queue with each "
               "other and with the listeners of the other controllers, so a burst of "
               "notifications is written by all of them at once (a newer word always wins)."),
]

node_sync_opts = [
    cfg.BoolOpt("enabled", default=True,
                help="Keep CloudManager's inventory of compute nodes and instances (read by "
                "evacuation planning, balancing and `node list/show`) in step with Nova and "
                "Placement: a full sync every sync_interval on the leader controller, the "
                "listener's notifications in between."),
    cfg.StrOpt("logfile", default="",
               help="Log file of compute node synchronization (also in the beat's log)."),
    cfg.IntOpt("reserve_interval", default=60, min=0,
               help="Seconds a hypervisor must stay free of instances before node_sync moves "
               "it to the reserve pool (with auto_reserve)."),
    cfg.IntOpt("sync_interval", default=60, min=1,
               help="Seconds between two compute node synchronizations. The inventory counts "
               "as stale (readers go to Nova) after 3 intervals without a finished sync."),
    cfg.BoolOpt("auto_reserve", default=False,
                help="Move hypervisors free of instances for reserve_interval to the reserve "
                "pool (disabled in Nova, left powered). Off unless the operator opts in."),
]

node_tracker_opts = [
    cfg.BoolOpt("allow_host_auto_power_off", default=False,
                help="Power-cycle a compute node that went down and wait host_restart_timeout "
                "for it before evacuating."),
    cfg.BoolOpt("enabled", default=True, help="Check the state of compute nodes."),
    cfg.IntOpt("host_restart_timeout", default=600, min=0,
               help="Seconds to wait for a power-cycled compute node to come back."),
    cfg.StrOpt("logfile", default="", help="Log file of the compute node state checks."),
    cfg.IntOpt("loop_time", default=30, min=1,
               help="Seconds between two checks of the compute nodes. With [nova_database] "
               "url set, a node whose last nova-compute report expires (service_timeout) "
               "before the next check is checked at that moment."),
    cfg.IntOpt("max_down_hosts", default=0, min=0,
               help="Most compute nodes (reserve nodes excluded) that may be down at once for "
               "automatic evacuation to run; above it nothing is evacuated. 0 disables "
               "automatic evacuation."),
    cfg.IntOpt("mutex", default=3, min=1,
               help="Consecutive failed checks before a node is declared down."),
    cfg.IntOpt("mutex_up", default=1, min=1,
               help="Consecutive good checks before a down node is declared up."),
    cfg.IntOpt("timeout_reserv_node_up", default=15, min=1,
               help="Minutes to wait for a reserve node to come up."),
    cfg.IntOpt("service_timeout", default=30, min=1,
               help="Seconds without a report from nova-compute (Nova's service updated_at) "
               "after which the service counts as down for CloudManager. Shorter than Nova's "
               "service_down_time so that failures are detected sooner; keep it above 2 x "
               "Nova's report_interval."),
    cfg.IntOpt("heartbeat_timeout", default=30, min=1,
               help="Seconds after which a node agent's last instance-state file no longer "
               "proves the node alive."),
]

nova_database_opts = [
    cfg.StrOpt("url", default="", secret=True, help="Connection URL of Nova's database."),
    cfg.FloatOpt("timeout", default=5.0, min=0.1,
                 help="Seconds a heartbeat read of Nova's database may take (connect, read, "
                 "write); a slower or failed read makes that check use the API's service "
                 "state instead, so a hung database cannot stall the node tracker."),
]

power_opts = [
    cfg.IntOpt("shutdown_interval", default=30, min=1,
               help="Seconds between two checks of a node being shut down with evacuation."),
    cfg.IntOpt("shutdown_max_tick", default=10, min=1,
               help="Checks of a node being shut down with evacuation before giving up."),
]

pxe_opts = [
    cfg.StrOpt("conf_dir", default="/var/lib/tftpboot/pxelinux.cfg/",
               help="Directory of PXE configuration files: `node add` writes the node's "
               "per-MAC file (01-aa-bb-cc-dd-ee-ff) there, and a local-boot one once its "
               "nova-compute registered."),
    cfg.StrOpt("template", default="",
               help="File whose text becomes a new node's PXE file, with $hostname, $mac, "
               "$mac_dashed and $pxe_name filled in ($$ for a literal $). Empty: a built-in "
               "pxelinux configuration booting aos/vmlinuz and aos/initrd.img."),
    cfg.IntOpt("lease_timeout", default=900, min=1,
               help="Seconds `node add` waits, after powering the node on, for its MAC to "
               "lease an address in [DEFAULT] dhcp_leases."),
    cfg.IntOpt("compute_timeout", default=3600, min=1,
               help="Seconds `node add` waits, once the node leased an address, for its "
               "nova-compute to register and report (the operating system is installed "
               "meanwhile)."),
]

storage_sync_opts = [
    cfg.BoolOpt("enabled", default=True,
                help="Keep the state of Cinder's storage pools (capacity, up/down from their "
                "cinder-volume service, compute nodes with their volumes attached) in "
                "CloudManager's database, on the leader controller; a pool going down or "
                "coming back is an event. Shown by `openstack aos storage list|show`."),
    cfg.StrOpt("logfile", default="",
               help="Log file of storage synchronization (also in the beat's log)."),
    cfg.IntOpt("sync_interval", default=60, min=1,
               help="Seconds between two storage synchronizations."),
    cfg.IntOpt("forget_gone_after", default=7 * 24 * 3600, min=0,
               help="Seconds after which a pool gone from Cinder (its cinder-volume service "
               "or backend removed) is dropped from the list, with an event; 0 keeps gone "
               "pools listed."),
]


GROUPS: dict[str | None, list[cfg.Opt]] = {
    None: default_opts,
    "agent": agent_opts,
    "api": api_opts(9362, "CloudManager"),
    "balancing": balancing_opts,
    "database": database_opts("cloud_manager"),
    "drs": drs_opts,
    "drs_trigger": drs_trigger_opts,
    "extra_availability_check": extra_availability_check_opts,
    "host_tasks": host_tasks_opts,
    "listener": listener_opts,
    "node_sync": node_sync_opts,
    "node_tracker": node_tracker_opts,
    "nova_database": nova_database_opts,
    "power": power_opts,
    "pxe": pxe_opts,
    "storage_sync": storage_sync_opts,
}


list_opts = lister(GROUPS)
