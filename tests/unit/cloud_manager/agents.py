"""A node agent served over oslo.messaging's in-process ``fake://`` broker."""

from __future__ import annotations


def agent_of(runtime, host: str, instances, stop_command: str, restart_command: str = "true"):
    """The node's agent served over the in-process ``fake://`` broker, and the controller's
    client on the same broker; returns the server to stop (None: no agent answers)."""
    from cloud_manager import agent_protocol
    from cloud_manager.agent_client import AgentClient
    from cloud_manager.agent_endpoint import AgentEndpoint, rpc_server

    transport = agent_protocol.transport("fake://")
    runtime.__dict__["agents"] = AgentClient(transport, 0.2, 5, 0.1, 2, sleep=lambda s: None)
    if instances is None:
        return None
    server = rpc_server(transport, AgentEndpoint(host, instances, restart_command,
                                                 stop_command, 5))
    server.start()
    return server
