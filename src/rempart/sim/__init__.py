"""Simulation tools: the synthetic population (and, later, workloads and attack scenarios)."""
