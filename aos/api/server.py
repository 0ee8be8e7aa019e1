"""Serve a WSGI app with gunicorn (threads, no control socket) for the ``*-api`` services."""

from __future__ import annotations

from collections.abc import Callable

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, app: Callable, options: dict) -> None:
        self._app = app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable:
        return self._app


def serve(app: Callable, host: str, port: int, workers: int = 1, threads: int = 8) -> None:
    _Server(app, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,
        "control_socket_disable": True,
    }).run()


class LazyApp:
    """A WSGI callable that builds its app on the first request.

    External WSGI servers import the entry module before configuration may be readable;
    building on first use keeps that import free of side effects.
    """

    def __init__(self, factory: Callable[[], Callable]) -> None:
        self._factory = factory
        self._app: Callable | None = None

    def __call__(self, environ: dict, start_response: Callable):
        if self._app is None:
            self._app = self._factory()
        return self._app(environ, start_response)


def app_factory(api, module, build_runtime: Callable | None = None) -> Callable:
    """``create_app(conf=None)`` of a module's API: its routes over its runtime.

    The runtime (database sessions, secrets, adapters) reaches the views as the app's
    ``runtime`` extension; without ``conf`` the module's files under /etc/aos are read.
    """
    from aos import conf as aos_conf
    from aos.api.app import create_app

    def create_module_app(conf=None) -> Callable:
        conf = conf or aos_conf.load(module)
        extensions = {"runtime": build_runtime(conf)} if build_runtime else {}
        return create_app(api, conf, **extensions)

    return create_module_app
