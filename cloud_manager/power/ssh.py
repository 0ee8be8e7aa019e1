"""A "virtual" power device: commands run over SSH on a management host (paramiko).

Options: ``on``, ``off``, ``status`` (commands; ``status`` prints "on" or "off", anything
else is an unknown state), and the optional ``cycle`` and ``soft_off`` (a clean OS shutdown,
for planned shutdowns). Useful for virtualised labs and PDUs that only speak SSH.
"""

from __future__ import annotations

import paramiko

from cloud_manager.power import PowerDriver, PowerError, PowerState


class SSHDriver(PowerDriver):
    command_timeout: float = 60  # seconds a command may stay silent before it counts as hung

    def _run(self, action: str) -> str:
        cmd = self.options.get(action)
        if not cmd:
            raise PowerError(f"power device {self.name}: option {action!r} (a command) not set")
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(self.address, port=self.port or 22, username=self.username,
                           password=self.password, timeout=10, allow_agent=False,
                           look_for_keys=not self.password)
            _, stdout, stderr = client.exec_command(cmd, timeout=self.command_timeout)
            try:  # read before the exit status: reads honour the timeout, recv_exit_status not
                out = stdout.read().decode(errors="replace").strip()
                err = stderr.read().decode(errors="replace").strip()
            except TimeoutError as exc:
                raise PowerError(f"power device {self.name}: {action!r} did not finish "
                                 f"within {self.command_timeout}s") from exc
            if not stdout.channel.status_event.wait(self.command_timeout):
                raise PowerError(f"power device {self.name}: {action!r} sent no exit status")
            status = stdout.channel.exit_status
            if status != 0:
                raise PowerError(f"power device {self.name}: {action!r} exited {status}: "
                                 f"{err[:200]}")
            return out
        except (paramiko.SSHException, OSError) as exc:
            raise PowerError(f"power device {self.name} (SSH {self.address}): {exc}") from exc
        finally:
            client.close()

    def power_state(self) -> PowerState:
        """"on" or "off" only when the status command prints exactly that; else unknown."""
        out = self._run("status").strip().lower()
        if out in ("on", "off"):
            return out  # type: ignore[return-value]
        return self._unknown(f"status command printed {out[:100]!r}, not on/off")

    def power_on(self) -> None:
        self._run("on")

    def power_off(self) -> None:
        self._run("off")

    def power_soft_off(self) -> None:
        if not self.options.get("soft_off"):
            super().power_soft_off()
        self._run("soft_off")

    def power_cycle(self) -> None:
        if self.options.get("cycle"):
            self._run("cycle")
        else:
            super().power_cycle()
