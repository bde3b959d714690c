"""In-process implementations of the ports: real defaults, and the fakes of unit tests."""
