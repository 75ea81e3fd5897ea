"""The rules of careapp. Services take explicit actors, flush but never commit."""
