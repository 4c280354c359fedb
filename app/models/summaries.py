"""Summaries of the dashboards (ringkasan dasbor), kept in the writing transaction.

Each tally table holds signed deltas: statement triggers on the base table append, for the rows
a statement inserted, changed or deleted, one row per key with the change of the count (and of
a sum where one is kept). A figure is the sum of its key's deltas, so it is exact the moment
the writing transaction commits, and concurrent writers never wait on a shared counter row.
`compact_tallies()` folds the deltas into one row per key from time to time; the sums do not
change when it does. The migrations `20261205_1330`, `20261206_0300` and `20261206_0340` hold
the triggers; `app.stats.repository` reads the tallies, and `app.stats.recompute` computes the
same figures from the base tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Identity, Numeric, String, Table
from sqlalchemy.dialects.postgresql import UUID

from app.models.base import Base


def _delta_id() -> Column[int]:
    return Column("id", BigInteger, Identity(always=True), primary_key=True)


# Innovations per province of origin, status and scale.
innovation_tallies = Table(
    "innovation_tallies",
    Base.metadata,
    _delta_id(),
    Column("province_code", String(2)),
    Column("status", String(16), nullable=False),
    Column("scale", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
)

# Commitments per programme, province of origin, province of the adopter and status, with the
# sum of their progress.
commitment_tallies = Table(
    "commitment_tallies",
    Base.metadata,
    _delta_id(),
    Column("program_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("origin_province_code", String(2)),
    Column("adopter_province_code", String(2)),
    Column("status", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("progress_sum", Numeric, nullable=False),
)

# The same counts and progress sums over every programme, keyed by the two provinces and the
# status alone (a few thousand keys at most): the figures not filtered by programme read these.
commitment_flow_tallies = Table(
    "commitment_flow_tallies",
    Base.metadata,
    _delta_id(),
    Column("origin_province_code", String(2)),
    Column("adopter_province_code", String(2)),
    Column("status", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("progress_sum", Numeric, nullable=False),
)

# The same counts and progress sums keyed by the adopter's province and the status alone (a
# few hundred keys at most): the overview and the provinces read these.
commitment_adopter_tallies = Table(
    "commitment_adopter_tallies",
    Base.metadata,
    _delta_id(),
    Column("adopter_province_code", String(2)),
    Column("status", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("progress_sum", Numeric, nullable=False),
)

# Commitments still under way (committed, in progress, stalled) per province of the adopter
# and target launch date: those dated before today are overdue, whatever day today is.
# Compaction folds a province's past dates into one row dated -infinity (a past date stays past).
commitment_deadline_tallies = Table(
    "commitment_deadline_tallies",
    Base.metadata,
    _delta_id(),
    Column("adopter_province_code", String(2)),
    Column("target_launch_on", Date, nullable=False, index=True),
    Column("n", BigInteger, nullable=False),
)

# Subjects (innovations and commitments) per province and the verdict of their latest
# sustainability assessment.
verdict_tallies = Table(
    "verdict_tallies",
    Base.metadata,
    _delta_id(),
    Column("province_code", String(2)),
    Column("verdict", String(16), nullable=False),
    Column("n", BigInteger, nullable=False),
)

# Every table kept from others: emptied with the tables it summarises (tests, the bench seed).
SUMMARY_TABLES: tuple[str, ...] = (
    "innovation_tallies",
    "commitment_tallies",
    "commitment_flow_tallies",
    "commitment_adopter_tallies",
    "commitment_deadline_tallies",
    "verdict_tallies",
    # app/models/figures.py: the dashboard lists' kept rows.
    "innovation_figures",
    "due_subjects",
)
