"""Use cases: what agents, the security team and citizens do with Rempart."""
