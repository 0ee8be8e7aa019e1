from aos.modules import Module
from clouds.conf import list_opts

MODULE = Module(
    name="clouds",
    title="Clouds",
    service_prefix="aos-clouds",
    log_dir_name="clouds",
    migrations="clouds.db:migrations",
    list_opts=list_opts,
    database_name="clouds",
)
