"""A "virtual" power device: commands run over SSH on a management host (paramiko).

Options: ``on``, ``off``, ``status`` (commands; ``status`` prints "on" or "off") and ``cycle``
(optional). Useful for virtualised labs and PDUs that only speak SSH.
"""

from __future__ import annotations

import paramiko

from cloud_manager.power import PowerDriver, PowerError, PowerState


class SSHDriver(PowerDriver):
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
            _, stdout, stderr = client.exec_command(cmd, timeout=60)
            status = stdout.channel.recv_exit_status()
            out = stdout.read().decode().strip()
            if status != 0:
                raise PowerError(f"power device {self.name}: {action!r} exited {status}: "
                                 f"{stderr.read().decode().strip()[:200]}")
            return out
        except (paramiko.SSHException, OSError) as exc:
            raise PowerError(f"power device {self.name} (SSH {self.address}): {exc}") from exc
        finally:
            client.close()

    def power_state(self) -> PowerState:
        out = self._run("status").lower()
        if out not in ("on", "off"):
            raise PowerError(f"power device {self.name}: status printed {out!r}, not on/off")
        return out  # type: ignore[return-value]

    def power_on(self) -> None:
        self._run("on")

    def power_off(self) -> None:
        self._run("off")

    def power_cycle(self) -> None:
        if self.options.get("cycle"):
            self._run("cycle")
        else:
            super().power_cycle()
