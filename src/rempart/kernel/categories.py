"""The entities of the partner portal: people, organisations, agents and their relations."""

from __future__ import annotations

from enum import StrEnum


class DataCategory(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    NIR = "nir"
    STATUS = "status"
    TRAINING = "training"
    FOLLOW_UP_NOTES = "follow_up_notes"
    DISABILITY = "disability"


class Purpose(StrEnum):
    TRAINING_FOLLOW_UP = "training_follow_up"
    YOUTH_FOLLOW_UP = "youth_follow_up"
    EMPLOYMENT_SUPPORT = "employment_support"
    ENROLMENT = "enrolment"
    SECURITY_INVESTIGATION = "security_investigation"
