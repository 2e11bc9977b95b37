"""The core: what every feature needs, knowing no feature."""
