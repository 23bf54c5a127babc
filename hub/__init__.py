"""The c4hub node: API, storage, services, workers, CLI."""
