"""Entry point of a sandbox nova-compute: plain nova-compute.

`compute_driver` values outside Nova (`aos_sandbox.fakevirt.SandboxFakeDriver`, spec 000's
`clouds_drivers.nova.virt.ec2.EC2Driver`) load through the import hook the clouds-drivers
wheel installs (`clouds_drivers_virt_alias.pth`), as on a production compute node.

Run as `python -m aos_sandbox.compute --config-file ...`.
"""

from __future__ import annotations

import sys


def main() -> None:
    from nova.cmd import compute

    sys.argv[0] = "nova-compute"
    compute.main()


if __name__ == "__main__":
    main()
