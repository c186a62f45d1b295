"""What reps teach triage: the intent a person gave a reply, kept as a labelled example."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import CHANNELS, Base, TenantOwned, one_of
from .messaging import INTENTS


class ReplyLabel(TenantOwned, Base):
    """A rep's "correct the intent" on one reply: the words as they were, the intent triage gave and
    the one the rep chose. One per reply (a later correction replaces it): the latest word wins."""

    __tablename__ = "reply_labels"
    __table_args__ = (
        CheckConstraint(one_of("intent", INTENTS), name="intent"),
        CheckConstraint("previous_intent IS NULL OR " + one_of("previous_intent", INTENTS), name="previous_intent"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        Index("ix_reply_labels_tenant_created", "tenant_id", "created_at"),
    )

    inbound_message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("inbound_messages.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[str]
    text: Mapped[str]
    intent: Mapped[str]
    previous_intent: Mapped[str | None]
    labelled_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("operators.id", ondelete="SET NULL"))
