"""The audit log: the writer, the hash chain, signed checkpoints."""
