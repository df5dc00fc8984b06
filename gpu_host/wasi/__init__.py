"""The WASI 0.2 interfaces guests import, implemented by the host in Python (docs/platform-notes.md)."""
