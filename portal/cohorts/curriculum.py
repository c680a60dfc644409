"""The programme's six weeks and ten competencies, from the certification's own description."""

from __future__ import annotations

from dataclasses import dataclass

WEEKS_IN_PROGRAMME = 6
SESSION_MINUTES = 120


@dataclass(frozen=True)
class Week:
    number: int
    title: str
    summary: str
    handouts: tuple[str, ...]


WEEKS: tuple[Week, ...] = (
    Week(
        1,
        "Discovering Digital Peer Support",
        "The history of digital peer support within the peer support movement: what the evidence says, "
        "practical examples in various settings, and the landscape from telephone to video game peer support.",
        ("History of Peer Support Designline",),
    ),
    Week(
        2,
        "Digital Peer Support Competencies",
        "The co-produced core competencies that can guide digital peer support, as a first step towards "
        "standard best practice.",
        ("Digital Peer Support Competencies",),
    ),
    Week(
        3,
        "Access and Engagement of Service Users with Technology",
        "Getting free or low-cost technology for peer specialists and service users, mHealth equity of access, "
        "and engaging older adults, justice-involved people, rural residents and people experiencing homelessness.",
        ("Checklist for Digital Peer Support Equity", "Resource Guide to Access Free or Low Cost Technologies"),
    ),
    Week(
        4,
        "Ethics, Privacy, and Confidentiality",
        "Security and ethics of mental health technologies, digital and data (mis)trust, and data justice, "
        "from users' and providers' first-hand perspectives.",
        (
            "How to Interpret a Smartphone App Privacy Statement",
            "How to Select Technologies Using Decision-Support Tool",
        ),
    ),
    Week(
        5,
        "Delivering Peer Support through Available Technologies: Transparency and Informed Consent",
        "Delivering peer support by text message, video games and video conferencing, and the requirements "
        "for informed consent to provide services and to use technologies.",
        ("Sample Informed Consent form",),
    ),
    Week(
        6,
        "Pulling it All Together and Certification Celebration",
        "Reinforcing what was learned, the group oral examination, and the 40-item written test "
        "(80 % or higher passes).",
        (),
    ),
)

COMPETENCIES: tuple[tuple[int, str, bool], ...] = (
    (1, "Protecting the rights of service users", False),
    (2, "Technical knowledge and skill in the practice of digital peer support", False),
    (3, "Available technologies", False),
    (4, "Equity of access", False),
    (5, "Digital communication skills", False),
    (6, "Performance-based training", False),
    (7, "Monitoring digital peer support and addressing digital crisis", False),
    (8, "Peer support competencies", False),
    (9, "Self-care", True),
    (10, "Health literacy", True),
)


# The same lists as lookups, for every area that names a week or a competency (one source).
WEEK_TITLES: dict[int, str] = {w.number: w.title for w in WEEKS}
COMPETENCY_NAMES: dict[int, str] = {number: title for number, title, _ in COMPETENCIES}
EMERGING: frozenset[int] = frozenset(number for number, _, emerging in COMPETENCIES if emerging)


def competency_title(number: int) -> str:
    """"Self-care (emerging)": the name as the programme writes it."""
    return COMPETENCY_NAMES[number] + (" (emerging)" if number in EMERGING else "")


def week(number: int) -> Week:
    return WEEKS[number - 1]
