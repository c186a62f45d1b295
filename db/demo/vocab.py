"""The words the demo is made of: people, companies, places, industries and what they say.

Lists are ordered most common first; the generator draws from them with Zipf-like weights so
"Smith" is frequent and "Okonkwo" rare, as in a real CRM. Every email domain ends in
`.example` and every phone number uses the 555 exchange, so no seeded address can reach a
real person even if a real provider is configured against the demo database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = words(
    "James Mary Michael Jennifer David Linda Robert Patricia John Elizabeth William Jessica Richard Sarah "
    "Joseph Karen Thomas Emily Christopher Nancy Daniel Lisa Matthew Ashley Anthony Michelle Mark Amanda "
    "Steven Melissa Andrew Stephanie Joshua Rebecca Kevin Laura Brian Sharon Ryan Cynthia Jason Kathleen "
    "Justin Amy Eric Angela Jacob Anna Nicholas Brenda Jonathan Emma Brandon Olivia Samuel Sophia Benjamin "
    "Isabella Aaron Hannah Tyler Grace Nathan Chloe Adam Natalie Kyle Victoria Zachary Madison Ethan Abigail "
    "Noah Ava Liam Mia Lucas Harper Mateo Camila Diego Valentina Carlos Lucia Luis Ximena Jose Sofia Juan "
    "Gabriela Miguel Daniela Wei Mei Hiroshi Yuki Raj Priya Arjun Ananya Vikram Deepa Omar Fatima Ahmed "
    "Aisha Kwame Amara Chidi Ngozi Dmitri Olga Ivan Katya Declan Siobhan Sean Aoife Lars Ingrid Sven Freya "
    "Marco Giulia Luca Chiara Pierre Camille Hugo Zoe Malik Jada Darnell Imani Tariq Leila Kai Nalani"
)

LAST_NAMES = words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Chen Wang Li Zhang Liu Yamamoto Tanaka Sato Singh Kumar Shah Gupta Khan Ali Hassan Okafor Mensah "
    "Okonkwo Adeyemi Ivanov Petrov Novak Kowalski Larsen Nilsen Johansson Rossi Bianchi Russo Dubois "
    "Moreau Fischer Weber Schmidt Murray O'Brien O'Connor McCarthy Sullivan Kaur Nakamura Park Choi Tran"
)

COMPANY_STEMS = words(
    "Northwind Bluebird Summit Harbor Cedar Granite Maple Pioneer Redwood Silverline Brightpath Keystone "
    "Lakeside Riverbend Ironwood Oakridge Evergreen Crescent Sterling Horizon Pinnacle Beacon Copperleaf "
    "Willow Falcon Meridian Atlas Juniper Cobalt Sagebrush Tidewater Prairie Highland Foxglove Bluestem "
    "Ashford Larkspur Quarry Wildflower Stonegate Clearwater Aspen Orchard Trailhead Lighthouse Magnolia "
    "Sequoia Bayview Hawthorne Kestrel"
)

COMPANY_TRADES = words(
    "Logistics Construction Analytics Foods Manufacturing Health Software Labs Partners Consulting Supply "
    "Designs Media Builders Energy Robotics Insurance Legal Motors Fitness Hospitality Properties Capital "
    "Dental Lab Veterinary Clinic Accounting Marketing Engineering Freight Realty Brewing Apparel"
)

COMPANY_SUFFIXES = ("", "", "", " Inc.", " LLC", " Co.", " Group")

TITLES = (
    "Owner",
    "Operations Manager",
    "Office Manager",
    "General Manager",
    "Director of Operations",
    "Marketing Manager",
    "Project Manager",
    "Account Manager",
    "Facilities Manager",
    "Chief Financial Officer",
    "Founder",
    "Sales Director",
    "Engineer",
    "Registered Nurse",
    "Teacher",
    "Consultant",
    "Controller",
    "HR Manager",
    "Software Engineer",
    "Product Manager",
    "Purchasing Manager",
    "Vice President",
    "Chief Executive Officer",
    "Analyst",
    "Designer",
    "Architect",
    "Physician",
    "Attorney",
    "Store Manager",
    "Executive Assistant",
)

PERSONAL_DOMAINS = ("gmail.example", "outlook.example", "yahoo.example", "icloud.example", "proton.example")

# Zones with their area codes (most populous first). Area code and zone always agree.
ZONE_AREA_CODES: dict[str, tuple[str, ...]] = {
    "America/New_York": words(
        "212 646 718 917 347 617 857 404 678 305 786 215 267 202 703 704 919 407 813 412 614 313 216 716 904"
    ),
    "America/Chicago": words(
        "312 773 872 214 469 972 713 832 512 737 210 612 651 314 615 504 414 405 918 316 402 901 608 601 630"
    ),
    "America/Denver": words("303 720 970 719 801 385 505 575 406 307 208"),
    "America/Phoenix": words("602 480 623 520 928"),
    "America/Los_Angeles": words("213 310 323 424 818 415 628 510 408 650 619 858 916 206 425 253 503 971 702 725 559"),
    "America/Toronto": words("416 647 437 905 613"),
    "America/Vancouver": words("604 778 236 250"),
    "America/Edmonton": words("403 587 780 825"),
    "America/Anchorage": ("907",),
    "Pacific/Honolulu": ("808",),
}
ZONES = tuple(ZONE_AREA_CODES)

# Where a business's leads live: weights over ZONES.
REGIONS: dict[str, dict[str, float]] = {
    "mountain_west": {
        "America/Denver": 0.46,
        "America/Phoenix": 0.24,
        "America/Los_Angeles": 0.2,
        "America/Chicago": 0.05,
        "America/New_York": 0.05,
    },
    "midwest": {
        "America/Chicago": 0.82,
        "America/New_York": 0.1,
        "America/Denver": 0.04,
        "America/Los_Angeles": 0.04,
    },
    "northeast": {
        "America/New_York": 0.8,
        "America/Chicago": 0.06,
        "America/Los_Angeles": 0.06,
        "America/Toronto": 0.05,
        "America/Phoenix": 0.03,
    },
    "national": {
        "America/New_York": 0.45,
        "America/Chicago": 0.28,
        "America/Denver": 0.06,
        "America/Phoenix": 0.03,
        "America/Los_Angeles": 0.13,
        "America/Anchorage": 0.005,
        "Pacific/Honolulu": 0.005,
        "America/Toronto": 0.02,
        "America/Vancouver": 0.01,
        "America/Edmonton": 0.01,
    },
    "west_coast": {
        "America/Los_Angeles": 0.78,
        "America/Vancouver": 0.08,
        "America/Denver": 0.06,
        "America/Phoenix": 0.04,
        "Pacific/Honolulu": 0.04,
    },
    "canada": {
        "America/Toronto": 0.55,
        "America/Vancouver": 0.2,
        "America/Edmonton": 0.15,
        "America/New_York": 0.1,
    },
}

# Where leads come from (weights skewed the way inbound marketing usually is).
SOURCES: dict[str, float] = {
    "web_form": 30,
    "google_ads": 17,
    "meta_ads": 11,
    "referral": 10,
    "organic_search": 9,
    "cold_outbound": 6,
    "webinar": 5,
    "live_chat": 5,
    "partner": 4,
    "trade_show": 3,
}

STAGES: dict[str, float] = {"new": 28, "contacted": 26, "qualified": 22, "proposal": 14, "negotiation": 10}


@dataclass(frozen=True)
class Industry:
    """What differs between a solar installer and a dental group: money, topics, sources."""

    label: str
    deal_median: float
    deal_sigma: float
    deal_step: int
    topics: tuple[str, ...]
    extra_sources: dict[str, float] = field(default_factory=dict)
    company_share: float = 0.45
    phone_share: float = 0.8
    sms_consent: float = 0.6
    tags: tuple[str, ...] = ()
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)


INDUSTRIES: dict[str, Industry] = {
    "solar": Industry(
        "Residential solar",
        18_500,
        0.45,
        50,
        ("your solar quote", "the battery backup option", "going solar", "your roof assessment"),
        {"home_show": 5, "door_to_door": 6},
        phone_share=0.86,
        sms_consent=0.62,
        tags=("homeowner", "south-facing", "financing", "battery"),
        attributes={
            "roof_type": ("asphalt shingle", "tile", "metal", "flat"),
            "utility": ("Xcel Energy", "APS", "SRP", "PG&E", "SCE"),
            "financing": ("cash", "loan", "lease"),
        },
    ),
    "dental": Industry(
        "Dental clinics",
        2_400,
        0.9,
        10,
        ("your Invisalign consult", "dental implants", "teeth whitening", "your new-patient visit"),
        {"insurance_directory": 7, "walk_in": 4},
        company_share=0.35,
        phone_share=0.9,
        sms_consent=0.72,
        tags=("new-patient", "insured", "family-plan", "cosmetic"),
        attributes={
            "treatment": ("invisalign", "implants", "whitening", "checkup", "crown", "veneers"),
            "insurance": ("Delta Dental", "Cigna", "MetLife", "Aetna", "none"),
            "location": ("Lincoln Park", "Evanston", "Oak Brook", "Naperville", "Schaumburg"),
        },
    ),
    "real_estate": Industry(
        "Real estate",
        12_500,
        0.6,
        50,
        ("your home search", "selling your home", "the listings we sent", "your home valuation"),
        {"portal_listing": 14, "open_house": 8},
        company_share=0.4,
        phone_share=0.92,
        sms_consent=0.66,
        tags=("buyer", "seller", "pre-approved", "first-time-buyer", "relocating"),
        attributes={
            "intent": ("buy", "sell", "buy", "rent"),
            "neighborhood": ("Park Slope", "Astoria", "Hoboken", "Williamsburg", "Upper West Side", "Jersey City"),
            "timeline": ("0-3 months", "3-6 months", "6-12 months"),
        },
    ),
    "hvac": Industry(
        "Heating and cooling",
        7_200,
        0.55,
        50,
        ("your HVAC estimate", "the heat pump upgrade", "your maintenance plan", "a new furnace"),
        {"home_show": 4},
        company_share=0.4,
        tags=("homeowner", "emergency", "maintenance-plan"),
        attributes={
            "system": ("heat pump", "furnace", "central air", "mini-split"),
            "home_age": ("pre-1980", "1980-2000", "post-2000"),
        },
    ),
    "saas": Industry(
        "B2B software",
        14_000,
        0.8,
        100,
        ("the product demo", "your trial workspace", "the team plan", "the integration you asked about"),
        {"product_hunt": 3, "g2_review": 5},
        company_share=0.95,
        phone_share=0.55,
        sms_consent=0.25,
        tags=("trial", "enterprise", "smb", "champion"),
        attributes={"seats": ("5", "10", "25", "50", "100"), "plan": ("starter", "team", "business", "enterprise")},
    ),
    "law": Industry(
        "Law firm",
        4_800,
        0.7,
        50,
        ("your consultation", "the estate plan", "your case review", "the documents we discussed"),
        {"bar_referral": 6},
        company_share=0.45,
        tags=("estate", "family", "business", "urgent"),
        attributes={"practice_area": ("estate planning", "family law", "business formation", "immigration")},
    ),
    "fitness": Industry(
        "Fitness studio",
        1_150,
        0.5,
        10,
        ("your free class", "the membership options", "personal training", "the intro offer"),
        {"class_pass": 8},
        company_share=0.3,
        phone_share=0.85,
        sms_consent=0.7,
        tags=("trial-class", "personal-training", "corporate"),
        attributes={
            "goal": ("strength", "weight loss", "mobility", "endurance"),
            "preferred_time": ("morning", "lunch", "evening"),
        },
    ),
    "auto": Industry(
        "Car dealership",
        31_000,
        0.35,
        100,
        ("your test drive", "the trade-in estimate", "the model you asked about", "financing options"),
        {"autotrader": 12},
        company_share=0.4,
        phone_share=0.9,
        tags=("trade-in", "financing", "new", "used"),
        attributes={"interest": ("SUV", "sedan", "truck", "EV", "hybrid"), "trade_in": ("yes", "no")},
    ),
}

GENERATED_INDUSTRIES = ("hvac", "saas", "law", "fitness", "auto", "solar", "dental", "real_estate")


@dataclass(frozen=True)
class DemoBusiness:
    """One of the three hand-written demo tenants."""

    name: str
    slug: str
    industry: str
    region: str
    timezone: str
    sender_name: str
    sender_first: str
    sender_phone: str
    physical_address: str


DEMO_BUSINESSES = (
    DemoBusiness(
        "Sunridge Solar",
        "sunridge-solar",
        "solar",
        "mountain_west",
        "America/Denver",
        "Maya Torres, Sunridge Solar",
        "Maya",
        "+17205550142",
        "1420 Larimer St, Suite 300, Denver, CO 80202, USA",
    ),
    DemoBusiness(
        "Brightsmile Dental Group",
        "brightsmile-dental",
        "dental",
        "midwest",
        "America/Chicago",
        "Dr. Priya Shah, Brightsmile Dental",
        "Priya",
        "+13125550188",
        "233 S Wacker Dr, Floor 12, Chicago, IL 60606, USA",
    ),
    DemoBusiness(
        "Harbor & Main Realty",
        "harbor-main-realty",
        "real_estate",
        "northeast",
        "America/New_York",
        "Daniel Brooks, Harbor & Main Realty",
        "Daniel",
        "+12125550117",
        "88 Pine St, 5th Floor, New York, NY 10005, USA",
    ),
)

GENERATED_NAME_HEADS = words(
    "Evergreen Granite Bluebird Pioneer Lakeside Copperleaf Summit Redwood Beacon Meridian Juniper Falcon "
    "Harborview Keystone Prairie Cedar Crescent Aspen Sterling Oakridge"
)

GENERATED_NAME_TAILS: dict[str, tuple[str, ...]] = {
    "hvac": ("Heating & Air", "Comfort Systems", "HVAC"),
    "saas": ("Software", "Cloud", "Analytics"),
    "law": ("Law Group", "Legal", "& Partners LLP"),
    "fitness": ("Fitness", "Strength Studio", "Athletic Club"),
    "auto": ("Motors", "Auto Group", "Toyota"),
    "solar": ("Solar", "Energy", "Sun Power"),
    "dental": ("Dental", "Family Dentistry", "Smiles"),
    "real_estate": ("Realty", "Homes", "Properties"),
}

GENERATED_REGIONS = ("national", "west_coast", "midwest", "northeast", "mountain_west", "canada")

REGION_HOME: dict[str, tuple[str, str, str]] = {
    # region: (tenant zone, street address tail, sender area code)
    "national": ("America/Chicago", "Austin, TX 78701, USA", "512"),
    "west_coast": ("America/Los_Angeles", "Portland, OR 97204, USA", "503"),
    "midwest": ("America/Chicago", "Minneapolis, MN 55402, USA", "612"),
    "northeast": ("America/New_York", "Boston, MA 02110, USA", "617"),
    "mountain_west": ("America/Denver", "Salt Lake City, UT 84111, USA", "801"),
    "canada": ("America/Toronto", "Toronto, ON M5H 2N2, Canada", "416"),
}

REP_COUNT_MIN = 3
REP_COUNT_MAX = 24
LEADS_PER_REP = 1_500

# --- what the campaigns say ---------------------------------------------------------------

# Every body has the slots {first}, {topic}, {sender} in this order, so bodies can be built
# column-wise (see columns.fill_three). Nothing here names a price, a date or a percentage,
# so each body passes app/domain/messages.check.
EMAIL_SUBJECTS: dict[int, tuple[str, ...]] = {
    1: ("{first}, still thinking about {topic}?", "Quick question about {topic}"),
    2: ("Checking in on {topic}", "{first}, any questions about {topic}?"),
    3: ("Should I close your file, {first}?", "One last note about {topic}"),
}

EMAIL_BODIES: dict[int, tuple[str, ...]] = {
    1: (
        "Hi {first},\n\nWe haven't heard from you since you asked about {topic}. Is it still on your "
        "list? I'm happy to answer questions by email or set up a quick call at a time that suits you."
        "\n\nBest,\n{sender}",
        "Hi {first},\n\nJust checking in on {topic}. A lot of people pause at this stage because one "
        "question is still open. What would help you decide?\n\nThanks,\n{sender}",
    ),
    2: (
        "Hi {first},\n\nFollowing up on {topic}. If the timing has changed, just tell me and I'll "
        "adjust. If you'd like to keep going, reply with a good time to talk.\n\nBest,\n{sender}",
        "Hi {first},\n\nI put together a short summary of where we left off on {topic}. Want me to send "
        "it over, or would a five-minute call be easier?\n\nCheers,\n{sender}",
    ),
    3: (
        "Hi {first},\n\nI don't want to crowd your inbox, so this is my last note about {topic}. If the "
        "timing isn't right, no problem at all. Just reply 'later' and I'll check back another time."
        "\n\nAll the best,\n{sender}",
        "Hi {first},\n\nShould I close your file on {topic}? If you're still interested, a one-word "
        "reply is enough and I'll pick it up from there.\n\nWarmly,\n{sender}",
    ),
}

SMS_BODIES: dict[int, tuple[str, ...]] = {
    1: (
        "Hi {first}, it's {sender}. Still interested in {topic}? Happy to answer questions. Reply STOP to opt out.",
        "Hi {first}, {sender} here. Any questions about {topic}? Just reply here. Reply STOP to opt out.",
    ),
    2: (
        "Hi {first}, {sender} here. Want to pick up {topic} again? A quick reply works. Reply STOP to opt out.",
        "{first}, it's {sender}. Is {topic} still on your list? Reply STOP to opt out.",
    ),
    3: (
        "Hi {first}, last note from {sender} about {topic}. Reply YES and I'll call you. Reply STOP to opt out.",
        "{first}, should I close your file on {topic}? {sender}. Reply STOP to opt out.",
    ),
}

TEMPLATE_NAMES = {1: "Rung 1 - gentle check-in", 2: "Rung 2 - nudge", 3: "Rung 3 - last try"}

# --- what leads write back -----------------------------------------------------------------

# intent: (sentiment, priority, email replies, sms replies, suggested answer or "")
REPLIES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], str]] = {
    "interested": (
        "positive",
        "high",
        (
            "Yes, still interested! Can we talk this week?",
            "Thanks for following up. I'd like to move forward, what are the next steps?",
            "Good timing, we were just talking about this. Call me tomorrow afternoon?",
        ),
        ("Yes still interested, call me", "Yes! When can we talk?", "Interested. Free after 5"),
        "Great to hear! I'll call you at the time that suits you. What number is best?",
    ),
    "question": (
        "neutral",
        "high",
        (
            "How long does the whole process usually take?",
            "Do you offer financing or payment plans?",
            "Can you remind me what's included? I lost the details.",
        ),
        ("How long does it take?", "Do you do payment plans?", "What's included again?"),
        "Good question. Let me get you the exact details and I'll reply today.",
    ),
    "not_now": (
        "neutral",
        "medium",
        (
            "Not right now, maybe in a few months.",
            "We're busy until the new year, please check back then.",
            "Timing isn't great at the moment. Reach out later.",
        ),
        ("Not now, maybe later", "Busy right now, try me next month", "Later in the year"),
        "Understood. I'll check back later and won't crowd your inbox until then.",
    ),
    "not_interested": (
        "negative",
        "low",
        (
            "No thanks, we went with someone else.",
            "Not interested anymore, thanks.",
            "We decided not to go ahead.",
        ),
        ("No thanks", "Not interested", "Went with another company"),
        "",
    ),
    "unsubscribe": (
        "negative",
        "low",
        ("Please remove me from your list.", "Unsubscribe.", "Stop emailing me please."),
        ("STOP", "Stop", "UNSUBSCRIBE"),
        "",
    ),
    "out_of_office": (
        "neutral",
        "low",
        (
            "I'm out of the office with limited access to email and will reply when I'm back.",
            "Thanks for your message. I'm travelling this week and will respond on my return.",
        ),
        ("I'm out of the office, will reply when I'm back",),
        "",
    ),
    "wrong_person": (
        "neutral",
        "low",
        (
            "I think you have the wrong person, I never asked about this.",
            "This isn't me, please update your records.",
        ),
        ("Wrong number", "You have the wrong person"),
        "",
    ),
}

INTENT_SHARES_EMAIL = {
    "interested": 0.28,
    "question": 0.2,
    "not_now": 0.18,
    "not_interested": 0.13,
    "unsubscribe": 0.07,
    "out_of_office": 0.1,
    "wrong_person": 0.04,
}
INTENT_SHARES_SMS = {
    "interested": 0.3,
    "question": 0.19,
    "not_now": 0.15,
    "not_interested": 0.14,
    "unsubscribe": 0.17,
    "out_of_office": 0.0,
    "wrong_person": 0.05,
}

# --- what leads did before they went quiet -------------------------------------------------

# kind: (channel, (summary, details json) pairs)
ACTIVITY_TEXT: dict[str, tuple[str | None, tuple[tuple[str, str], ...]]] = {
    "form": (
        "web",
        (
            ("Submitted the 'Get a quote' form", '{"form": "get-a-quote"}'),
            ("Submitted the contact form", '{"form": "contact"}'),
            ("Booked a consultation online", '{"form": "book-consultation"}'),
            ("Downloaded the buyer's guide", '{"form": "guide-download"}'),
        ),
    ),
    "page_view": (
        "web",
        (
            ("Viewed /pricing", '{"path": "/pricing", "seconds": 74}'),
            ("Viewed /reviews", '{"path": "/reviews", "seconds": 41}'),
            ("Viewed /financing", '{"path": "/financing", "seconds": 58}'),
            ("Viewed /faq", '{"path": "/faq", "seconds": 33}'),
            ("Viewed /case-studies", '{"path": "/case-studies", "seconds": 92}'),
        ),
    ),
    "call": (
        "phone",
        (
            ("Discovery call, 12 min", '{"direction": "outbound", "minutes": 12}'),
            ("Inbound call, asked about timing", '{"direction": "inbound", "minutes": 6}'),
            ("Left voicemail", '{"direction": "outbound", "minutes": 1, "voicemail": true}'),
        ),
    ),
    "meeting": (
        "video",
        (
            ("Consultation meeting", '{"minutes": 30}'),
            ("Site visit", '{"minutes": 45}'),
        ),
    ),
    "email_in": (
        "email",
        (
            ("Asked for more details by email", '{"direction": "inbound"}'),
            ("Replied with availability", '{"direction": "inbound"}'),
        ),
    ),
    "email_out": (
        "email",
        (
            ("Rep sent an introduction", '{"direction": "outbound", "by": "rep"}'),
            ("Rep sent the proposal", '{"direction": "outbound", "by": "rep"}'),
        ),
    ),
    "note": (
        None,
        (
            ("Referred by an existing customer", '{"by": "rep"}'),
            ("Met at the spring trade show", '{"by": "rep", "event": "trade show"}'),
            ("Prefers to be contacted in the evening", '{"by": "rep"}'),
        ),
    ),
    "stage_change": (
        None,
        (
            ("Stage changed to qualified", '{"to": "qualified"}'),
            ("Stage changed to proposal", '{"to": "proposal"}'),
        ),
    ),
}

# The organic history between a lead's first touch and the moment it went quiet.
MIDDLE_ACTIVITY_SHARES = {
    "page_view": 0.38,
    "call": 0.18,
    "email_in": 0.1,
    "meeting": 0.07,
    "email_out": 0.12,
    "note": 0.08,
    "stage_change": 0.07,
}
# The last thing a lead did itself, which `last_activity_at` records.
LAST_ACTIVITY_SHARES = {"page_view": 0.42, "call": 0.2, "email_in": 0.18, "form": 0.12, "meeting": 0.08}
