"""A seeded, reproducible wasi:webgpu fuzzer that runs through a real guest (docs/sandbox.md)."""
