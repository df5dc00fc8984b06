"""Everything around the guest runtime: the CLI, outputs, and (later) the streaming server."""
