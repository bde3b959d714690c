"""Plain Python: the rules of Rempart, with no I/O."""
