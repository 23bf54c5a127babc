"""Hotlists: black and white lists of plates, matched against every read."""
