"""Reply triage: what an inbound reply means and what to do about it (pure, stdlib only)."""

from app.domain.triage.classify import Triage, classify
from app.domain.triage.dates import extract_date
from app.domain.triage.intents import Intent
from app.domain.triage.model import NaiveBayes

__all__ = ["Intent", "NaiveBayes", "Triage", "classify", "extract_date"]
