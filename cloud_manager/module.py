from aos.modules import Module
from cloud_manager.conf import list_opts

MODULE = Module(
    name="cloud_manager",
    title="CloudManager",
    service_prefix="aos-cloud-manager",
    log_dir_name="cloud-manager",
    migrations="cloud_manager.db:migrations",
    list_opts=list_opts,
    database_name="cloud_manager",
)
