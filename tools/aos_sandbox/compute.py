"""Entry point of a sandbox nova-compute: nova-compute plus the nova.virt alias hook.

Run as `python -m aos_sandbox.compute --config-file ...`.
"""

from __future__ import annotations

import sys

from aos_sandbox import virt_alias


def main() -> None:
    virt_alias.install()
    from nova.cmd import compute

    sys.argv[0] = "nova-compute"
    compute.main()


if __name__ == "__main__":
    main()
