"""Wires the import: the bulk loader on the portal's engine, governance for what follows."""

from __future__ import annotations

from sqlalchemy import Engine

from rempart.governance.service.deps import GovernanceDeps
from rempart.intake.adapters.files import csv_directory
from rempart.intake.adapters.sql import SqlIntakeStore
from rempart.intake.service import IntakeDeps

__all__ = ["build_intake", "csv_directory"]


def build_intake(engine: Engine, gov: GovernanceDeps) -> IntakeDeps:
    """The import's dependencies on the portal database at ``engine``."""
    return IntakeDeps(store=SqlIntakeStore(engine), gov=gov)
