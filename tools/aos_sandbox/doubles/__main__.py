"""Command line for the doubles: up | down | status | install.

    python3 tools/aos_sandbox/doubles/__main__.py up --state-dir DIR
    python -m aos_sandbox.doubles status --state-dir DIR      (tools/ on sys.path)

--state-dir defaults to $AOS_SANDBOX_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `doubles` importable from its parent
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from doubles import install, start, status, stop
else:
    from . import install, start, status, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aos-doubles", description="AWS and Yandex.Cloud test doubles"
    )
    parser.add_argument("action", choices=("up", "down", "status", "install"))
    parser.add_argument("--state-dir", type=Path, default=os.environ.get("AOS_SANDBOX_DIR"))
    args = parser.parse_args(argv)
    if args.state_dir is None:
        parser.error("--state-dir is required (or set AOS_SANDBOX_DIR)")
    if args.action == "install":
        install(args.state_dir)
    elif args.action == "up":
        print(json.dumps(start(args.state_dir), indent=2))
    elif args.action == "down":
        stop(args.state_dir)
    else:
        result = status(args.state_dir)
        print(json.dumps(result, indent=2))
        return 0 if all(s["up"] for s in result.values()) else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
