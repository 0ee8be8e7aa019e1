"""Clouds options, as the module's documentation lists them."""

from __future__ import annotations

from oslo_config import cfg

from aos.conf.api import api_opts, database_opts
from aos.conf.opts import lister

worker_opts = [
    cfg.StrOpt("logfile", default="", help="Log file of aos-clouds-worker."),
    cfg.IntOpt("drift_interval", default=600, min=0,
               help="Seconds between two drift reports (mapped resources gone from the "
               "cloud, logged as warnings, never deleted) and two passes deleting the cloud "
               "images of server snapshots deleted from Glance. The worker runs the schedule "
               "itself: run one worker with it per cloud, the others with 0 (off)."),
]

aws_opts = [
    cfg.URIOpt("endpoint_url", schemes=["http", "https"],
               help="URL of every AWS API (EC2, STS) instead of the regional AWS endpoints, "
               "e.g. another implementation of the AWS APIs. Unset: the real AWS."),
    cfg.FloatOpt("connect_timeout", default=10.0, min=0.1,
                 help="Seconds to wait for a connection to AWS."),
    cfg.FloatOpt("read_timeout", default=30.0, min=0.1,
                 help="Seconds to wait for an AWS answer."),
    cfg.IntOpt("max_attempts", default=3, min=1,
               help="Attempts per AWS call, retries included (botocore's standard retry "
               "mode)."),
    cfg.IntOpt("session_duration", default=3600, min=900, max=129600,
               help="Lifetime in seconds of the STS session credentials given to drivers."),
]

yandex_opts = [
    cfg.StrOpt("endpoint", default="api.cloud.yandex.net:443",
               help="host:port of the Yandex.Cloud API endpoint (endpoint discovery)."),
    cfg.StrOpt("root_certificates_file",
               help="PEM bundle that verifies the endpoint's TLS certificate. Unset: the "
               "system's trust store."),
    cfg.FloatOpt("timeout", default=30.0, min=0.1,
                 help="Deadline in seconds of every Yandex.Cloud call."),
]

images_opts = [
    cfg.StrOpt("aws_bucket", help="S3 bucket (in each AWS account's region) that receives "
               "the Glance images uploaded to AWS for VM Import; unset: no uploads to AWS."),
    cfg.StrOpt("yandex_bucket", help="Yandex Object Storage bucket that receives the Glance "
               "images uploaded to Yandex.Cloud; unset: no uploads to Yandex."),
    cfg.StrOpt("yandex_access_key_id", help="Id of the static access key to Object Storage "
               "(Yandex issues no short-lived ones)."),
    cfg.StrOpt("yandex_secret_access_key", secret=True,
               help="Secret of the static access key to Object Storage."),
    cfg.URIOpt("yandex_storage_endpoint", schemes=["http", "https"],
               default="https://storage.yandexcloud.net",
               help="Object Storage URL the files are uploaded through (another S3 "
               "implementation in tests); Compute reads them at storage.yandexcloud.net."),
    cfg.StrOpt("key_prefix", default="aos-uploads/",
               help="Prefix of the S3 keys of uploaded images (the key ends with the Glance "
               "image id). The objects stay after the import."),
    cfg.IntOpt("max_size_gb", default=1024, min=1,
               help="Largest Glance image, in GiB, that may be uploaded to a cloud."),
    cfg.FloatOpt("poll_interval", default=10.0, min=0.01,
                 help="Seconds between two looks at a cloud's image import task."),
    cfg.IntOpt("import_timeout", default=14400, min=1,
               help="Seconds after which an import the cloud has not finished is failed."),
]

credentials_opts = [
    cfg.IntOpt("refresh_margin", default=300, min=0,
               help="Seconds before short-lived credentials expire at which the API stops "
               "handing out the cached ones and issues new ones."),
]

GROUPS: dict[str | None, list[cfg.Opt]] = {
    "api": api_opts(9366, "Clouds"),
    "database": database_opts("clouds", "URL to access the database."),
    "worker": worker_opts,
    "aws": aws_opts,
    "yandex": yandex_opts,
    "credentials": credentials_opts,
    "images": images_opts,
}


list_opts = lister(GROUPS)
