"""Redis implementations: state shared by every replica."""
