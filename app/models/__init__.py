"""ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.competition import (
    Competition,
    CompetitionEntry,
    CompetitionObjection,
    CompetitionRubric,
    EntryAssignment,
    EntryScore,
    FieldVerification,
    StageRanking,
)
from app.models.event import Event
from app.models.figures import due_subjects, innovation_figures
from app.models.idempotency_key import IdempotencyKey
from app.models.innovation import Award, Innovation
from app.models.institution import Institution
from app.models.institutionalisation import Incentive, JippHub, JippHubMember, Regulation
from app.models.region import Region
from app.models.replication import (
    ActionItem,
    Commitment,
    CommitmentActivity,
    ProgressReport,
    ReplicationProgram,
)
from app.models.scaling import ScalingProposal
from app.models.summaries import (
    commitment_adopter_tallies,
    commitment_deadline_tallies,
    commitment_flow_tallies,
    commitment_tallies,
    innovation_tallies,
    verdict_tallies,
)
from app.models.sustainability import SustainabilityAssessment, SustainabilityRubric
from app.models.webhook import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ActionItem",
    "ApiKey",
    "Award",
    "Base",
    "Commitment",
    "Competition",
    "CompetitionEntry",
    "CompetitionObjection",
    "CompetitionRubric",
    "CommitmentActivity",
    "EntryAssignment",
    "EntryScore",
    "Event",
    "FieldVerification",
    "IdempotencyKey",
    "Incentive",
    "JippHub",
    "JippHubMember",
    "Regulation",
    "Innovation",
    "Institution",
    "ProgressReport",
    "Region",
    "ReplicationProgram",
    "ScalingProposal",
    "StageRanking",
    "SustainabilityAssessment",
    "SustainabilityRubric",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "commitment_deadline_tallies",
    "commitment_flow_tallies",
    "commitment_adopter_tallies",
    "commitment_tallies",
    "due_subjects",
    "innovation_figures",
    "innovation_tallies",
    "verdict_tallies",
]
