"""Launcher of the Yandex double (runs inside state_dir/venv-doubles):

python -m doubles.ycloud --state-dir DIR --port 15001
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from . import config
from .server import build_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=config.DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = build_server(args.state_dir.resolve(), args.host, args.port)
    server.start()
    logging.getLogger("aos.doubles.yandex").info("serving on %s:%s", args.host, args.port)

    def _stop(signum, frame):
        server.stop(grace=1)
        sys.exit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
