"""wasi:webgpu on wgpu-py: one module per resource family of the standard (host.py links them)."""
