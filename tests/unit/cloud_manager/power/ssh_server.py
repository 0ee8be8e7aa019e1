"""A small in-process SSH server (paramiko) that runs "exec" requests with the local shell.

One user/password; each connection is served by paramiko's transport thread, each command
in a daemon thread. For tests only: it runs whatever it is asked to.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading

import paramiko


class SSHServer:
    def __init__(self, username: str, password: str, timeout: float = 10) -> None:
        self.username, self.password, self.timeout = username, password, timeout
        self.host_key = paramiko.RSAKey.generate(1024)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._procs: list[subprocess.Popen] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Handler(self))  # serves in its own thread
            except (paramiko.SSHException, OSError, EOFError):
                transport.close()

    def execute(self, channel: paramiko.Channel, command: str) -> None:
        try:
            proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
            self._procs.append(proc)
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill(proc)
                out, err = proc.communicate()
            channel.sendall(out)
            channel.sendall_stderr(err)
            rc = proc.returncode
            channel.send_exit_status(rc if rc >= 0 else 128 - rc)  # killed: 128 + signal
        except (OSError, paramiko.SSHException):
            channel.close()  # the client went away
        else:
            # EOF, not close: the client closes. Closing here could overtake the transport's
            # reply to the exec request on a busy machine, and the client would then fail
            # with "Channel closed." before reading anything.
            channel.shutdown_write()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)
        for proc in self._procs:
            _kill(proc)
        for transport in self._transports:
            transport.close()


def _kill(proc: subprocess.Popen) -> None:
    """Kill the shell and whatever it started (dash forks rather than execs commands)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


class _Handler(paramiko.ServerInterface):
    def __init__(self, server: SSHServer) -> None:
        self.server = server

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        ok = (username, password) == (self.server.username, self.server.password)
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        # Called in the transport thread, which must return to answer the request.
        threading.Thread(target=self.server.execute, args=(channel, command.decode()),
                         daemon=True).start()
        return True
