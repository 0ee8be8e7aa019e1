"""Authentication: keystonemiddleware in front of the app, except for public documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keystonemiddleware import auth_token
from oslo_config import cfg


def wrap_auth(app: Callable, conf: cfg.ConfigOpts, public_paths: Iterable[str],
              noauth: bool) -> Callable:
    if noauth:
        return app
    protected = auth_token.AuthProtocol(app, {"oslo_config_config": conf})
    public = frozenset(public_paths)

    def dispatch(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "/") in public:
            return app(environ, start_response)
        return protected(environ, start_response)

    return dispatch
