"""Licence plates: reading, normalising, storing and searching plate reads."""
