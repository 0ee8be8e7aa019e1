"""A minimal DMTF Redfish service per host: just enough of the schema for sushy.

Real BMCs expose one Redfish endpoint per machine, so each host gets its own HTTP
port with a single ComputerSystem (Id = host name) and a single Manager. The
service root is anonymous (as the standard allows); everything else needs HTTP
Basic auth or an X-Auth-Token from SessionService, which is what sushy tries first.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .power import PowerController

LOG = logging.getLogger("aos_sandbox.bmc.redfish")
PROTOCOL = "redfish"
ROOT = "/redfish/v1"
SESSIONS = f"{ROOT}/SessionService/Sessions"
MANAGER_ID = "BMC"

# Redfish ResetType -> PowerController method name.
RESET_TYPES = {
    "On": "power_on",
    "ForceOn": "power_on",
    "ForceOff": "power_off",
    "GracefulShutdown": "power_off",
    "ForceRestart": "power_cycle",
    "GracefulRestart": "power_cycle",
    "PowerCycle": "power_cycle",
}


# PowerController's reported state -> ComputerSystem.PowerState ("Unknown" is not in the
# schema's enum and None is JSON null: both are seen on real BMCs).
_POWER_STATES = {
    "on": "On",
    "off": "Off",
    "powering-on": "PoweringOn",
    "powering-off": "PoweringOff",
    "unknown": "Unknown",
    "none": None,
}


class HostRedfish:
    """The Redfish view of one host: documents, credentials and live sessions."""

    def __init__(self, host: str, power: PowerController, username: str, password: str):
        self.host = host
        self.power = power
        self.username = username
        self.password = password
        self.uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{host}.aos-sandbox"))
        self.sessions: dict[str, str] = {}  # session id -> token
        self.lock = threading.Lock()

    # -- authentication ---------------------------------------------------------

    def check_password(self, username: str, password: str) -> bool:
        return hmac.compare_digest(
            username.encode(), self.username.encode()
        ) and hmac.compare_digest(password.encode(), self.password.encode())

    def new_session(self) -> tuple[str, str]:
        session_id, token = secrets.token_hex(8), secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[session_id] = token
        return session_id, token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return any(hmac.compare_digest(token, t) for t in self.sessions.values())

    # -- documents --------------------------------------------------------------

    def service_root(self) -> dict[str, Any]:
        return {
            "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
            "@odata.id": f"{ROOT}/",
            "Id": "RootService",
            "Name": f"AOS sandbox BMC for {self.host}",
            "RedfishVersion": "1.6.0",
            "UUID": self.uuid,
            "Systems": {"@odata.id": f"{ROOT}/Systems"},
            "Managers": {"@odata.id": f"{ROOT}/Managers"},
            "SessionService": {"@odata.id": f"{ROOT}/SessionService"},
            "Links": {"Sessions": {"@odata.id": SESSIONS}},
        }

    def system(self) -> dict[str, Any]:
        state = _POWER_STATES[self.power.reported(self.host)]
        return {
            "@odata.type": "#ComputerSystem.v1_10_0.ComputerSystem",
            "@odata.id": f"{ROOT}/Systems/{self.host}",
            "Id": self.host,
            "Name": self.host,
            "HostName": self.host,
            "UUID": self.uuid,
            "SystemType": "Virtual",
            "Manufacturer": "AOS sandbox",
            "Model": "fake nova-compute host",
            "PowerState": state,
            "Status": {"State": "Enabled" if state == "On" else "StandbyOffline", "Health": "OK"},
            "Links": {"ManagedBy": [{"@odata.id": f"{ROOT}/Managers/{MANAGER_ID}"}]},
            "Actions": {
                "#ComputerSystem.Reset": {
                    "target": f"{ROOT}/Systems/{self.host}/Actions/ComputerSystem.Reset",
                    "ResetType@Redfish.AllowableValues": list(RESET_TYPES),
                },
            },
        }

    def manager(self) -> dict[str, Any]:
        return {
            "@odata.type": "#Manager.v1_5_0.Manager",
            "@odata.id": f"{ROOT}/Managers/{MANAGER_ID}",
            "Id": MANAGER_ID,
            "Name": f"BMC of {self.host}",
            "ManagerType": "BMC",
            "UUID": self.uuid,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Links": {"ManagerForServers": [{"@odata.id": f"{ROOT}/Systems/{self.host}"}]},
        }

    def get(self, path: str) -> dict[str, Any] | None:
        """The document at `path` (authenticated part of the tree), or None."""
        if path == f"{ROOT}/Systems":
            return _collection(
                "#ComputerSystemCollection.ComputerSystemCollection",
                path,
                "Computer System Collection",
                [f"{path}/{self.host}"],
            )
        if path == f"{ROOT}/Systems/{self.host}":
            return self.system()
        if path == f"{ROOT}/Managers":
            return _collection(
                "#ManagerCollection.ManagerCollection",
                path,
                "Manager Collection",
                [f"{path}/{MANAGER_ID}"],
            )
        if path == f"{ROOT}/Managers/{MANAGER_ID}":
            return self.manager()
        if path == f"{ROOT}/SessionService":
            return {
                "@odata.type": "#SessionService.v1_1_6.SessionService",
                "@odata.id": path,
                "Id": "SessionService",
                "Name": "Session Service",
                "ServiceEnabled": True,
                "SessionTimeout": 3600,
                "Sessions": {"@odata.id": SESSIONS},
            }
        if path == SESSIONS:
            with self.lock:
                members = [f"{SESSIONS}/{sid}" for sid in self.sessions]
            return _collection(
                "#SessionCollection.SessionCollection", path, "Session Collection", members
            )
        if path.startswith(f"{SESSIONS}/"):
            sid = path.rsplit("/", 1)[1]
            with self.lock:
                if sid not in self.sessions:
                    return None
            return {
                "@odata.type": "#Session.v1_0_0.Session",
                "@odata.id": path,
                "Id": sid,
                "Name": "User Session",
                "UserName": self.username,
            }
        return None

    def reset(self, reset_type: str) -> None:
        getattr(self.power, RESET_TYPES[reset_type])(self.host, PROTOCOL, reset_type)


def _collection(odata_type: str, path: str, name: str, members: list[str]) -> dict[str, Any]:
    return {
        "@odata.type": odata_type,
        "@odata.id": path,
        "Name": name,
        "Members@odata.count": len(members),
        "Members": [{"@odata.id": m} for m in members],
    }


def _error(message: str, code: str = "Base.1.8.GeneralError") -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "@Message.ExtendedInfo": [{"MessageId": code, "Message": message}],
        }
    }


class Handler(BaseHTTPRequestHandler):
    """HTTP glue; the Redfish content lives in HostRedfish (`self.server.bmc`)."""

    server_version = "AOSSandboxBMC/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def bmc(self) -> HostRedfish:
        return self.server.bmc  # type: ignore[attr-defined]

    @property
    def path_only(self) -> str:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        return path.rstrip("/") or "/"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        LOG.debug("host=%s %s %s", self.bmc.host, self.address_string(), format % args)

    # -- verbs ------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        path = self.path_only
        if path == "/redfish":
            return self._send(HTTPStatus.OK, {"v1": f"{ROOT}/"})
        if path == ROOT:
            return self._send(HTTPStatus.OK, self.bmc.service_root())
        if not self._authorized():
            return
        doc = self.bmc.get(path)
        if doc is None:
            return self._send(
                HTTPStatus.NOT_FOUND, _error(f"{path} not found", "Base.1.8.ResourceMissingAtURI")
            )
        self._send(HTTPStatus.OK, doc)

    def do_POST(self) -> None:  # noqa: N802
        path = self.path_only
        body = self._body()
        if body is None:
            return
        if path == SESSIONS:
            return self._create_session(body)
        if not self._authorized():
            return
        if path == f"{ROOT}/Systems/{self.bmc.host}/Actions/ComputerSystem.Reset":
            return self._reset(body)
        if self.bmc.get(path) is not None:
            return self._send(HTTPStatus.METHOD_NOT_ALLOWED, _error("POST not allowed here"))
        self._send(
            HTTPStatus.NOT_FOUND, _error(f"{path} not found", "Base.1.8.ResourceMissingAtURI")
        )

    def do_DELETE(self) -> None:  # noqa: N802
        path = self.path_only
        if not self._authorized():
            return
        if path.startswith(f"{SESSIONS}/"):
            with self.bmc.lock:
                found = self.bmc.sessions.pop(path.rsplit("/", 1)[1], None)
            if found is not None:
                return self._send(HTTPStatus.NO_CONTENT)
        self._send(
            HTTPStatus.NOT_FOUND, _error(f"{path} not found", "Base.1.8.ResourceMissingAtURI")
        )

    def do_PATCH(self) -> None:  # noqa: N802
        if self._authorized():
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, _error("PATCH is not supported"))

    # -- actions ----------------------------------------------------------------

    def _create_session(self, body: dict[str, Any]) -> None:
        if not self.bmc.check_password(
            str(body.get("UserName", "")), str(body.get("Password", ""))
        ):
            LOG.warning(
                "host=%s protocol=redfish session login refused for %r",
                self.bmc.host,
                body.get("UserName"),
            )
            return self._send(
                HTTPStatus.UNAUTHORIZED, _error("Invalid credentials", "Base.1.8.NoValidSession")
            )
        sid, token = self.bmc.new_session()
        location = f"{SESSIONS}/{sid}"
        self._send(
            HTTPStatus.CREATED,
            self.bmc.get(location),
            headers={"X-Auth-Token": token, "Location": location},
        )

    def _reset(self, body: dict[str, Any]) -> None:
        reset_type = body.get("ResetType")
        if reset_type not in RESET_TYPES:
            LOG.warning(
                "host=%s protocol=redfish reset refused: ResetType=%r", self.bmc.host, reset_type
            )
            return self._send(
                HTTPStatus.BAD_REQUEST,
                _error(
                    f"ResetType {reset_type!r} not in {list(RESET_TYPES)}",
                    "Base.1.8.ActionParameterValueNotInList",
                ),
            )
        try:
            self.bmc.reset(reset_type)
        except Exception as exc:  # report, don't drop the connection
            LOG.exception(
                "host=%s protocol=redfish action=%s result=error", self.bmc.host, reset_type
            )
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, _error(str(exc)))
        self._send(HTTPStatus.NO_CONTENT)

    # -- helpers ----------------------------------------------------------------

    def _authorized(self) -> bool:
        token = self.headers.get("X-Auth-Token")
        if token and self.bmc.token_valid(token):
            return True
        auth = self.headers.get("Authorization", "")
        if not token and auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, password = "", ""
            if self.bmc.check_password(user, password):
                return True
        LOG.warning(
            "host=%s protocol=redfish %s %s refused: not authenticated",
            self.bmc.host,
            self.command,
            self.path_only,
        )
        self._send(
            HTTPStatus.UNAUTHORIZED,
            _error("Authentication required", "Base.1.8.NoValidSession"),
            headers={"WWW-Authenticate": 'Basic realm="AOS sandbox BMC"'},
        )
        return False

    def _body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send(
                HTTPStatus.BAD_REQUEST,
                _error("Body must be a JSON object", "Base.1.8.MalformedJSON"),
            )
            return None
        return body

    def _send(
        self,
        status: HTTPStatus,
        doc: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        if self.close_connection:  # asked for by the client (sushy always asks): say so
            self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("OData-Version", "4.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)


class RedfishServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], bmc: HostRedfish) -> None:
        self.bmc = bmc
        super().__init__(address, Handler)


def serve(
    power: PowerController,
    ports: dict[str, int],
    username: str,
    password: str,
    address: str = "127.0.0.1",
) -> list[RedfishServer]:
    """Bind one Redfish service per host (OSError if a port is taken) and serve in threads."""
    servers = [
        RedfishServer((address, port), HostRedfish(host, power, username, password))
        for host, port in ports.items()
    ]
    for server in servers:
        threading.Thread(
            target=server.serve_forever, name=f"redfish-{server.bmc.host}", daemon=True
        ).start()
        LOG.info(
            "host=%s protocol=redfish listening on http://%s:%d",
            server.bmc.host,
            address,
            server.server_address[1],
        )
    return servers
