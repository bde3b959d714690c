"""The bench's ``rempart`` commands, declared in the ``rempart.commands`` entry-point group."""
