"""A "virtual" power device: commands run over SSH on a management host (paramiko).

Options: ``on``, ``off``, ``status`` (commands; ``status`` prints "on" or "off", anything
else is an unknown state), and the optional ``cycle`` and ``soft_off`` (a clean OS shutdown,
for planned shutdowns). The host's key is checked (options ``host_key``, a pinned SHA256
fingerprint, or ``known_hosts``, a file; else the service user's known_hosts): an unknown key
is refused. Useful for virtualised labs and PDUs that only speak SSH.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import paramiko

from cloud_manager.power import PowerDriver, PowerError, PowerState


class SSHDriver(PowerDriver):
    command_timeout: float = 60  # seconds a command may stay silent before it counts as hung

    def _run(self, action: str) -> str:
        cmd = self.options.get(action)
        if not cmd:
            raise PowerError(f"power device {self.name}: option {action!r} (a command) not set")
        client = paramiko.SSHClient()
        try:
            self._trust(client)
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

    def _trust(self, client: paramiko.SSHClient) -> None:
        """Accept only the management host's known key: a pinned SHA256 fingerprint
        (option ``host_key``), a ``known_hosts`` file, or the service user's known_hosts.
        An unknown or changed key is refused: a fence must not talk to an impostor."""
        pinned = self.options.get("host_key")
        if pinned:
            client.set_missing_host_key_policy(_PinnedKey(pinned, self.name))
            return
        if self.options.get("known_hosts"):
            client.load_host_keys(self.options["known_hosts"])
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())

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


class _PinnedKey(paramiko.MissingHostKeyPolicy):
    """Accept the host's key only if its SHA256 fingerprint is the pinned one."""

    def __init__(self, fingerprint: str, device: str) -> None:
        self.fingerprint, self.device = fingerprint.rstrip("="), device

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str,
                         key: paramiko.PKey) -> None:
        seen = fingerprint(key)
        if not hmac.compare_digest(seen, self.fingerprint):
            raise paramiko.SSHException(
                f"host key of {hostname} is {seen}, not the pinned {self.fingerprint} "
                f"(option host_key of power device {self.device}): refusing to connect")


def fingerprint(key: paramiko.PKey) -> str:
    """The key's SHA256 fingerprint as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
