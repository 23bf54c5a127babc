"""Planning: redundant cameras, greedy placement of new or moved cameras, the fleet survey."""
