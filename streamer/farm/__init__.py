"""`streamer farm`: many renders, and long renders in chunks, on a Ray cluster (docs/farm.md)."""
