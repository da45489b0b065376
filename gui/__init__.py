"""Thin PyQt5 layer over the headless core."""
