"""The sandbox's Redfish BMC (tools/aos_sandbox/bmc) served in-process, for driver tests.

Power actions run a stand-in sandbox command (``true``); what the BMC reports can be made
awkward with ``report`` (PoweringOff, Unknown, null, ...), as real BMCs answer.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "tools"))  # the sandbox imports its package as `aos_sandbox`

from aos_sandbox import bmc  # noqa: E402
from aos_sandbox.bmc import redfish  # noqa: E402
from aos_sandbox.bmc.power import PowerController  # noqa: E402

HOST = "compute1"
USER, PASSWORD = "admin", "bmc-secret"


class RedfishBMC:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.power = PowerController(state_dir, [HOST], Path(shutil.which("true") or "true"))
        (self.server,) = redfish.serve(self.power, {HOST: 0}, USER, PASSWORD)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def report(self, state: str | None) -> None:
        """Make status reads answer ``state`` (see ``aos_sandbox.bmc.set_report``)."""
        bmc.set_report(self.state_dir, HOST, state)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.power.close(timeout=5)
