"""The guard: budgets and detectors that contain an abused account inside the request."""
