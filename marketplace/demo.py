"""Demo data for `flask seed-demo`: believable French sellers, a works council, an admin and staff.

Idempotent: records are looked up by email or slug and only created when missing. The SIRET
numbers are made up (valid check digits, not real establishments).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from stdnum import luhn

from marketplace import audit
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.catalog.services import sync_categories
from marketplace.db import db, utcnow
from marketplace.organizations.models import (
    EssStatus,
    Membership,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    Role,
)

DEMO_PASSWORD = "solidaire-2026"  # noqa: S105 - printed by the command and in the README
DEMO_DOMAIN = "demo.ess-marche.fr"


def fictitious_siret(siren_body: str, nic_body: str) -> str:
    """8 + 4 digits -> a 14-digit SIRET whose SIREN and SIRET check digits are right."""
    siren = siren_body + luhn.calc_check_digit(siren_body)
    partial = siren + nic_body
    return partial + luhn.calc_check_digit(partial)


@dataclass
class DemoOrganization:
    slug: str
    name: str
    kind: OrganizationKind
    ess_status: EssStatus
    legal_form: str
    address_line: str
    postcode: str
    town: str
    description: str
    staff: dict[Role, tuple[str, str]]  # role -> (email local part, name)
    siret: str | None = None
    rna: str | None = None
    vat_exempt: bool = True
    status: OrganizationStatus = OrganizationStatus.APPROVED
    phone: str | None = None
    website: str | None = None


ORGANIZATIONS = [
    DemoOrganization(
        slug="ressourcerie-la-trouvaille",
        name="Ressourcerie La Trouvaille",
        kind=OrganizationKind.ASSOCIATION,
        ess_status=EssStatus.ASSOCIATION,
        legal_form="Association loi 1901",
        rna="W691004321",
        siret=fictitious_siret("81234567", "0001"),
        address_line="14 rue Francis de Pressensé",
        postcode="69100",
        town="Villeurbanne",
        description=(
            "Nous collectons meubles, vaisselle, vêtements et jouets dont vous ne voulez plus, "
            "nous les trions, les réparons et leur donnons une seconde vie à petit prix. "
            "Quinze salariés en insertion et quarante bénévoles font vivre la boutique."
        ),
        staff={
            Role.OWNER: ("claire.dumont", "Claire Dumont"),
            Role.MANAGER: ("karim.benali", "Karim Benali"),
            Role.COUNTER: ("lucie.moreau", "Lucie Moreau"),
        },
        phone="04 78 00 12 34",
    ),
    DemoOrganization(
        slug="epicerie-solidaire-le-panier-partage",
        name="Épicerie solidaire Le Panier Partagé",
        kind=OrganizationKind.ASSOCIATION,
        ess_status=EssStatus.ASSOCIATION,
        legal_form="Association loi 1901",
        rna="W442009876",
        address_line="3 place du Commerce",
        postcode="44000",
        town="Nantes",
        description=(
            "Une épicerie ouverte à tous : produits locaux et de saison, vrac, et des prix "
            "solidaires pour les familles orientées par les travailleurs sociaux."
        ),
        staff={
            Role.OWNER: ("yann.le-goff", "Yann Le Goff"),
            Role.COUNTER: ("nadia.haddad", "Nadia Haddad"),
        },
    ),
    DemoOrganization(
        slug="atelier-velo-la-roue-libre",
        name="Atelier vélo La Roue Libre",
        kind=OrganizationKind.ASSOCIATION,
        ess_status=EssStatus.ASSOCIATION,
        legal_form="Association loi 1901",
        rna="W381005555",
        siret=fictitious_siret("82345678", "0002"),
        address_line="27 cours Berriat",
        postcode="38000",
        town="Grenoble",
        description=(
            "Atelier participatif de réparation de vélos : apprenez à entretenir votre vélo avec "
            "nos mécaniciens bénévoles, et trouvez des vélos d'occasion révisés et des pièces de réemploi."
        ),
        staff={
            Role.OWNER: ("thomas.girard", "Thomas Girard"),
            Role.MANAGER: ("ines.faure", "Inès Faure"),
        },
    ),
    DemoOrganization(
        slug="boutique-equitable-terre-commune",
        name="Boutique équitable Terre Commune",
        kind=OrganizationKind.SOCIAL_ENTERPRISE,
        ess_status=EssStatus.SCIC,
        legal_form="SCIC SARL",
        siret=fictitious_siret("83456789", "0003"),
        address_line="8 rue des Lois",
        postcode="31000",
        town="Toulouse",
        description=(
            "Coopérative de commerce équitable : café, chocolat, textiles et artisanat achetés à "
            "des producteurs d'Amérique latine, d'Afrique et d'Occitanie à un prix juste."
        ),
        vat_exempt=False,
        staff={Role.OWNER: ("marie.rousseau", "Marie Rousseau")},
        website="https://terre-commune.example.org",
    ),
    DemoOrganization(
        slug="bouquinerie-solidaire-les-pages-libres",
        name="Bouquinerie solidaire Les Pages Libres",
        kind=OrganizationKind.ASSOCIATION,
        ess_status=EssStatus.ASSOCIATION,
        legal_form="Association loi 1901",
        rna="W595012345",
        address_line="52 rue Gambetta",
        postcode="59000",
        town="Lille",
        description=(
            "Livres d'occasion donnés par les habitants, triés par des bénévoles et vendus à petits "
            "prix ; les bénéfices financent des ateliers d'alphabétisation."
        ),
        staff={Role.OWNER: ("paul.lefebvre", "Paul Lefebvre")},
    ),
    DemoOrganization(
        slug="recyclerie-recup-r",
        name="Recyclerie Récup'R",
        kind=OrganizationKind.SOCIAL_ENTERPRISE,
        ess_status=EssStatus.ESUS,
        legal_form="SAS agréée ESUS",
        siret=fictitious_siret("84567890", "0004"),
        address_line="5 boulevard de la Liberté",
        postcode="35000",
        town="Rennes",
        description=(
            "Entreprise d'insertion qui remet en état ordinateurs, téléphones et petit "
            "électroménager, avec six mois de garantie."
        ),
        vat_exempt=False,
        staff={Role.OWNER: ("sophie.bernard", "Sophie Bernard")},
    ),
    DemoOrganization(
        slug="cse-manufacture-lyonnaise",
        name="CSE de la Manufacture Lyonnaise de Textiles",
        kind=OrganizationKind.WORKS_COUNCIL,
        ess_status=EssStatus.WORKS_COUNCIL,
        legal_form="Comité social et économique",
        siret=fictitious_siret("85678901", "0005"),
        address_line="120 avenue Jean Jaurès",
        postcode="69007",
        town="Lyon",
        description="Comité social et économique de 420 salariés.",
        staff={Role.OWNER: ("elodie.perrin", "Élodie Perrin")},
    ),
    DemoOrganization(
        slug="jardins-d-insertion-les-pousses",
        name="Jardins d'insertion Les Pousses",
        kind=OrganizationKind.ASSOCIATION,
        ess_status=EssStatus.SIAE,
        legal_form="Association loi 1901 (atelier et chantier d'insertion)",
        rna="W133007777",
        address_line="Chemin des Maraîchers",
        postcode="13100",
        town="Aix-en-Provence",
        description="Maraîchage biologique en chantier d'insertion ; paniers de légumes chaque semaine.",
        status=OrganizationStatus.PENDING,
        staff={Role.OWNER: ("julien.martinez", "Julien Martinez")},
    ),
]

ADMIN = ("admin", "Administratrice de la plateforme")
SHOPPER = ("camille.client", "Camille Durand")


@dataclass
class SeedReport:
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # email, who, password
    created: int = 0
    gift_card: str | None = None  # a demo card of 50 € with 20 € spent


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


def _user(local: str, name: str, report: SeedReport, *, admin=False) -> User:
    email = _email(local)
    user = accounts.get_by_email(email)
    if user is None:
        user = accounts.create_user(email=email, name=name, password=DEMO_PASSWORD, verified=True)
        report.created += 1
    user.is_admin = user.is_admin or admin
    return user


def seed() -> SeedReport:
    report = SeedReport()
    admin = _user(*ADMIN, report, admin=True)
    report.accounts.append((admin.email, "platform admin", DEMO_PASSWORD))
    shopper = _user(*SHOPPER, report)
    report.accounts.append((shopper.email, "shopper", DEMO_PASSWORD))

    for spec in ORGANIZATIONS:
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == spec.slug))
        owner_local, owner_name = spec.staff[Role.OWNER]
        owner = _user(owner_local, owner_name, report)
        if org is None:
            org = Organization(
                slug=spec.slug,
                name=spec.name,
                kind=spec.kind,
                ess_status=spec.ess_status,
                legal_form=spec.legal_form,
                siret=spec.siret,
                rna=spec.rna,
                address_line=spec.address_line,
                postcode=spec.postcode,
                town=spec.town,
                description=spec.description,
                vat_exempt=spec.vat_exempt,
                status=spec.status,
                phone=spec.phone,
                website=spec.website,
                contact_email=owner.email,
                applied_by_id=owner.id,
            )
            if spec.status == OrganizationStatus.APPROVED:
                org.reviewed_by_id = admin.id
                org.reviewed_at = utcnow()
            db.session.add(org)
            db.session.flush()
            audit.record("organization.applied", org, by=owner, data={"source": "demo"})
            if spec.status == OrganizationStatus.APPROVED:
                audit.record("organization.approved", org, by=admin, data={"source": "demo"})
            report.created += 1
        for role, (local, name) in spec.staff.items():
            user = _user(local, name, report)
            if user.membership_in(org.id) is None:
                db.session.add(Membership(organization=org, user=user, role=role))
                db.session.flush()
            report.accounts.append((user.email, f"{role.value} — {spec.name}", DEMO_PASSWORD))
    db.session.flush()

    from marketplace.demo_catalog import seed_catalog

    sync_categories()
    report.created += seed_catalog()
    from marketplace.demo_campaigns import seed_campaigns

    report.created += seed_campaigns("cse-manufacture-lyonnaise",
                                     _user("elodie.perrin", "Élodie Perrin", report), admin)
    db.session.flush()

    from marketplace.demo_money import seed_money

    card_code = seed_money(shopper)
    if card_code is not None:
        report.gift_card = card_code
    return report


def describe(report: SeedReport) -> str:
    lines = [f"Demo data ready ({report.created} records created). Logins (password for all: {DEMO_PASSWORD}):"]
    width = max(len(email) for email, _, _ in report.accounts)
    for email, who, _password in report.accounts:
        lines.append(f"  {email.ljust(width)}  {who}")
    if report.gift_card:
        lines.append(f"Demo gift card (30 € left, Camille's): {report.gift_card}")
    return "\n".join(lines)
