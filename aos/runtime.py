"""What every AOS service builds once from its configuration: database sessions and secrets.

A module's own runtime (``cloud_manager.runtime``, ``clouds.runtime``) extends this with its
adapters; views, tasks and periodic jobs receive it instead of reading globals.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager
from dataclasses import dataclass

from oslo_config import cfg
from sqlalchemy.orm import Session, sessionmaker

from aos import conf as aos_conf
from aos import db
from aos.crypto import SecretBox
from aos.modules import Module


@dataclass
class Runtime:
    conf: cfg.ConfigOpts
    sessions: sessionmaker[Session]

    @functools.cached_property
    def secrets(self) -> SecretBox:
        return SecretBox(aos_conf.secret_key_file(self.conf))

    def transaction(self) -> AbstractContextManager[Session]:
        return db.transaction(self.sessions)


def sessions_for(conf: cfg.ConfigOpts, module: Module) -> sessionmaker[Session]:
    """A session factory on the module's database (``[database] connection``)."""
    return db.session_factory(db.create_engine(db.database_url(conf, module)))
