"""The client gateway (client_gateway.proto): sessions for Java, C++ and any gRPC client.

- `bootstrap`: OpenSession, served at the cluster address (the GCS): picks a node and has it
  start the session's owner.
- `main`: the session owner process (one per session), a core worker that owns what the
  client puts and submits.
- `session`: the session's state and rules; `service`: its gRPC servicer.
"""
