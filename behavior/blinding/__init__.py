"""Blinded observer sessions: coding, scoring database, locking, unblinding, reliability."""
