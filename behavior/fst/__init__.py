"""Forced swim / tail suspension test: video -> per-frame features -> immobility."""
