"""Camera health: the sweep that checks every camera with a stream, and its history."""
