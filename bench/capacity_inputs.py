"""The public figures the capacity plan starts from: yearly volumes of the change events departments report about
China's residents, and the planning choices applied to them. Each figure names its source; `estimate` marks
those derived here rather than read from a publication (docs/capacity.md says how).
"""

from __future__ import annotations

from dataclasses import dataclass

RESIDENTS = 1_408_280_000
"""National Bureau of Statistics, Statistical Communiqué on the 2024 National Economic and Social Development."""
MONITORED = 66_000_000
"""Ministry of Civil Affairs: the national low-income population dynamic monitoring platform holds over 66 million
low-income persons (2024)."""
PERSONS_PER_HOUSEHOLD = 2.62
"""Seventh National Population Census (2020): 2.62 persons per family household."""
SECONDS_PER_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Volume:
    """Events of `event_types` per year about all residents, from `source`."""

    department: str
    event_types: str
    per_year: float
    source: str
    estimate: bool = False
    monthly_batch: bool = False
    """Reported once a month for everyone at once (income declarations), which sets the peak."""


VOLUMES: tuple[Volume, ...] = (
    Volume("civil affairs (registry)", "death.registered", 10_930_000,
           "NBS Statistical Communiqué 2024: 10.93 million deaths"),
    Volume("civil affairs (registry)", "household changes on assist.registry (births, marriages, divorces, moves)",
           9_540_000 + 2 * 6_106_000 + 2 * 2_600_000 + 20_000_000,
           "NBS Communiqué 2024: 9.54 million births; Ministry of Civil Affairs 2024: 6.1 million marriages and about "
           "2.6 million divorces (each changes two households); about 20 million household-register moves a year",
           estimate=True),
    Volume("health", "hospitalisation.admitted + hospitalisation.discharged", 2 * 301_870_000,
           "National Health Commission, Statistical Bulletin on Health Development 2023: 301.87 million admissions "
           "(one admission and one discharge event each)"),
    Volume("healthcare security", "medical_expense.settled", 301_870_000,
           "one inpatient settlement per admission of the same bulletin (outpatient settlements are not change "
           "events)", estimate=True),
    Volume("human resources and social security", "income.changed", 521_000_000,
           "Ministry of Human Resources and Social Security, Statistical Bulletin 2023: about 521 million insured in "
           "the basic pension insurance for employees; one change of the contribution base a year each, reported "
           "in the month of the yearly adjustment", estimate=True, monthly_batch=True),
    Volume("human resources and social security", "job.lost", 40_000_000,
           "about 10 % a year of the 473 million urban employed (NBS Communiqué 2024) leave a job (the "
           "12.56 million new urban jobs of 2024 are a net figure)", estimate=True),
    Volume("education", "school.enrolled", 60_970_000,
           "Ministry of Education, Statistical Bulletin on National Education Development 2023: new entrants of "
           "primary (18.78 M), junior secondary (17.55 M), regular senior secondary (9.68 M), secondary vocational "
           "(4.54 M) schools and higher education (10.42 M)"),
    Volume("disabled persons' federation", "disability.certified", 2_000_000,
           "China Disabled Persons' Federation: about 38 million certified disabled persons; about 2 million "
           "first certifications and re-gradings a year", estimate=True),
    Volume("emergency management", "emergency.occurred", 95_444_000,
           "Ministry of Emergency Management, 2023 natural disasters: 95.444 million person-times affected"),
    Volume("housing", "housing.lost", 1_000_000,
           "homes destroyed or uninhabitable by disasters, fires and demolitions", estimate=True),
    Volume("civil affairs (registry)", "age.milestone_reached", 26_000_000,
           "Seventh National Population Census 2020 age table: about 20 million a year reach 60 and about 6 million "
           "reach 80 (from the cohorts aged 55-59 and 75-79)", estimate=True),
    Volume("residents", "application.submitted", 20_000_000,
           "applications and reviews by residents and caseworkers; about 40 million receive subsistence allowance "
           "(Ministry of Civil Affairs statistical bulletin), renewed or newly applied for about every two years",
           estimate=True),
)

# Planning choices (docs/capacity.md explains each).
WORKING_SECONDS_PER_YEAR = 250 * 10 * 3600
"""Departments' systems report in working hours: 250 working days of 10 hours."""
PEAK_HOUR_FACTOR = 2.0
"""The busiest hour of a working day carries twice the mean of the working hours."""
MONTHLY_BATCH_HOURS = 8.0
"""A monthly batch (the yearly adjustment month's declarations) arrives within one working day of 8 hours."""
DISASTER_PERSONS = 10_000_000
DISASTER_HOURS = 4.0
"""A large flood: 10 million affected persons reported within 4 hours (the 2023 Haihe basin floods affected several
million; a worse one is planned for)."""
HEADROOM = 2.0
"""The design rate is twice the worst coincident peak (growth, catch-up after an outage)."""
UTILISATION = 0.5
"""Workers run at half their measured capacity at the design rate: the latency target is set at half capacity."""
REPLICATION = 3
PARTITION_GROWTH = 4
"""Partitions for 4 times the workers of the design, so workers can be added without re-keying state."""
MIN_PARTITIONS = 64
SEEN_WINDOW_DAYS = 7
"""intake's idempotency window (ASSIST_IDEMPOTENCY_WINDOW_SECONDS)."""
TASK_RETENTION_YEARS = 5
"""Decided tasks are kept in casework 5 years (ASSIST_DECIDED_TASK_RETENTION_DAYS)."""
OPEN_TASK_DAYS = 10
"""A task waits about its SLA (240 hours in the catalogue) before it is decided."""
DECIDED_IN_REDIS_DAYS = 90
"""The alternative the plan proposes: decided tasks leave Redis after 90 days (assist.tasks and assist.decisions keep
them a year; an archive beyond)."""
INBOX_RETENTION_YEARS = 2
"""Inbox entries are kept 2 years (ASSIST_INBOX_RETENTION_DAYS)."""
