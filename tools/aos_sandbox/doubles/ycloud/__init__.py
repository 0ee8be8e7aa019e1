"""A local fake of the Yandex.Cloud API (compute, vpc, operations, discovery, IAM).

Built by subclassing the `yandexcloud` SDK's own generated gRPC servicers, so the unmodified
SDK works against it.  State is in memory; operations finish at once.  Only `config` may be
imported without the doubles venv (grpc, protobuf and cryptography live there).
"""
