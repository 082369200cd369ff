"""审计日志 and 个人信息查看记录: the append-only record of every change to the base records and of
every look at a person's personal data in clear (migration 0024 writes the first by trigger; the
database refuses to change or delete either)."""
from __future__ import annotations

import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

AUDIT_ACTIONS = ("insert", "update", "delete", "load")


class AuditEntry(Model):
    """审计日志 — one changed row: who, when, which record, and each changed field before → after
    (personal data masked, secrets only marked "changed"). ``grid_ids`` are the row's grids before
    and after and every grid above them (who may read it: services/scope.py); ``record_table`` and ``record_id`` name the record
    whose history it is (a department's pairing belongs to the department)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint("action IN ('insert', 'update', 'delete', 'load')", name="audit_entries_action_valid"),
        Index("audit_entries_record_idx", "record_table", "record_id", "id"),
        Index("audit_entries_actor_idx", "actor_id", "id"),
        Index("audit_entries_table_idx", "table_name", "id"),
        Index("audit_entries_at_idx", "at"),
        Index("audit_entries_grid_ids_idx", "grid_ids", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    # no foreign key: a deleted login keeps its history
    actor_id: Mapped[Optional[int]] = mapped_column(Integer)
    table_name: Mapped[str] = mapped_column(String(64), nullable=False)
    record_table: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    grid_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False, server_default=text("'{}'"))

    actor = relationship("GridgovUser", primaryjoin="foreign(AuditEntry.actor_id) == GridgovUser.id", viewonly=True)

    @property
    def changed_fields(self) -> list[str]:
        """The names of the changed fields (a list page prints them, the record page each change)."""
        return list(self.changes or {})

    @property
    def change_set(self) -> tuple[str, dict]:
        """The changes with the table they were made in (which says what each field's values mean)."""
        return self.table_name, self.changes or {}

    def __repr__(self) -> str:
        return f"{self.table_name} {self.record_id} {self.action}"


class PersonalDataAccess(Model):
    """个人信息查看记录 — a user was shown this person's phone, ID number or address in clear."""

    __tablename__ = "personal_data_access"
    __table_args__ = (
        Index("personal_data_access_subject_idx", "subject_table", "subject_id", "id"),
        Index("personal_data_access_viewer_idx", "viewer_id", "id"),
        Index("personal_data_access_at_idx", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=text("now()"))
    viewer_id: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_table: Mapped[str] = mapped_column(String(64), nullable=False)
    subject_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    place: Mapped[str] = mapped_column(String(200), nullable=False)

    viewer = relationship("GridgovUser", primaryjoin="foreign(PersonalDataAccess.viewer_id) == GridgovUser.id",
                          viewonly=True)

    @property
    def subject(self) -> str:
        """The person seen, as the log's pages name them (filled in by the page: name, masked phone)."""
        return f"{self.subject_table} {self.subject_id}"

    def __repr__(self) -> str:
        return f"{self.subject_table} {self.subject_id}"
