"""Alerts: what the node raises for operators (hotlist matches), and their acknowledgement."""
