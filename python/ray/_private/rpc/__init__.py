"""The rpc layer: channels and the token, one typed client per service, and the mapping of
gRPC status codes to the runtime's exceptions. Nothing outside this package touches a raw stub.

- `channels`: servers that check the cluster token, one pooled channel per address.
- `errors`: `RpcFailure` and its kinds (`Unavailable`, `NotFound`, ...), made from gRPC errors.
- `gcs_client`, `node_manager_client`, `core_worker_client`: the typed clients.
- `push_stream`: the caller's end of the PushTaskStream (batched task pushes).
"""
