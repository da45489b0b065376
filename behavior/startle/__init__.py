"""Acoustic startle and prepulse inhibition."""
