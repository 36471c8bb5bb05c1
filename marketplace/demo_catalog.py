"""Demo catalogue: about 60 products with generated pictures, pickup locations and slots."""
from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from marketplace.audience import INTERNAL, PageKind, PageViewDay
from marketplace.catalog import services as catalog
from marketplace.catalog.models import ImpactKind, Product
from marketplace.catalog.search import fold
from marketplace.db import db
from marketplace.organizations.models import Organization
from marketplace.pickup import services as pickup
from marketplace.pickup.models import PickupLocation

# slug -> list of (title, category slug, price in cents, stock (None = unlimited), perishable, description)
PRODUCTS: dict[str, list[tuple[str, str, int, int | None, bool, str]]] = {
    "ressourcerie-la-trouvaille": [
        ("Buffet en chêne années 60", "home-furniture", 12000, 1, False, "Deux portes, trois tiroirs, restauré et ciré. 120 × 45 × 85 cm."),
        ("Chaise bistrot en bois courbé", "home-furniture", 1800, 6, False, "Solide, assise refaite."),
        ("Service à café en porcelaine (12 pièces)", "home-kitchen", 1500, 2, False, "Six tasses et six sous-tasses, motif fleuri."),
        ("Lot de verres à pied", "home-kitchen", 600, 0, False, "Six verres dépareillés."),
        ("Lampe de chevet en laiton", "home-decor", 1400, 3, False, "Abat-jour en lin neuf, câble changé."),
        ("Miroir ovale doré", "home-decor", 2500, 1, False, "60 × 40 cm."),
        ("Manteau en laine femme taille 40", "clothing-women", 2200, 1, False, "Laine et cachemire, bleu marine."),
        ("Veste en jean homme taille L", "clothing-men", 1200, 2, False, "Coupe classique."),
        ("Lot de bodies bébé 6 mois", "clothing-children", 500, 8, False, "Cinq bodies en coton bio."),
        ("Bottes de pluie enfant pointure 28", "clothing-shoes", 600, 0, False, ""),
        ("Puzzle 1000 pièces complet", "toys-games", 400, 5, False, "Vérifié pièce par pièce par nos bénévoles."),
        ("Perceuse visseuse sans fil", "home-garden", 3500, 1, False, "Testée, avec batterie et chargeur."),
    ],
    "epicerie-solidaire-le-panier-partage": [
        ("Panier de légumes de saison", "food-fresh", 1200, 15, True, "Environ 4 kg de légumes de producteurs de Loire-Atlantique."),
        ("Œufs frais bio (boîte de 6)", "food-fresh", 290, 30, True, "Poules élevées en plein air à Vertou."),
        ("Pain de campagne au levain", "food-fresh", 350, 12, True, "Cuit le matin même par le fournil de la Chézine."),
        ("Fromage de chèvre fermier", "food-fresh", 420, 0, True, ""),
        ("Lentilles vertes en vrac (1 kg)", "food-grocery", 380, 40, False, "Agriculture biologique, France."),
        ("Farine de blé T65 (1 kg)", "food-grocery", 190, 25, False, "Moulin de Vallet."),
        ("Miel de fleurs (500 g)", "food-grocery", 850, 1, False, "Rucher de l'Erdre."),
        ("Jus de pomme artisanal (1 L)", "food-drinks", 320, 18, False, "Pommes du pays nantais, sans sucre ajouté."),
        ("Café équitable moulu (250 g)", "food-drinks", 560, 10, False, "Coopérative du Pérou."),
        ("Savon à l'huile d'olive", "hygiene", 450, 20, False, "Saponifié à froid par une savonnerie d'insertion."),
    ],
    "atelier-velo-la-roue-libre": [
        ("Vélo de ville révisé", "mobility-bikes", 14000, 2, False, "Cadre acier, 3 vitesses, freins et pneus neufs, garantie 3 mois."),
        ("Vélo enfant 20 pouces", "mobility-bikes", 6000, 1, False, "Pour 6 à 9 ans."),
        ("VTT adulte taille M", "mobility-bikes", 18000, 0, False, "Révisé, 21 vitesses."),
        ("Révision complète de votre vélo", "mobility-repair", 4500, None, False, "Réglages, graissage, freins et dérailleurs, sur rendez-vous."),
        ("Atelier d'autoréparation (1 heure)", "services", 500, None, False, "Outils et conseils de nos mécaniciens bénévoles."),
        ("Chambre à air 700 × 35", "mobility-parts", 600, 24, False, "Neuve."),
        ("Antivol en U", "mobility-parts", 1500, 7, False, "Reconditionné, avec deux clés."),
        ("Sacoche de porte-bagages", "mobility-parts", 1200, 3, False, "Imperméable, 20 litres."),
        ("Éclairage avant et arrière USB", "mobility-parts", 1800, 9, False, ""),
        ("Casque vélo adulte", "mobility-parts", 1500, 1, False, "Taille 56-60 cm, jamais chuté."),
    ],
    "boutique-equitable-terre-commune": [
        ("Chocolat noir 70 % (100 g)", "food-grocery", 320, 50, False, "Cacao de la coopérative Kuapa Kokoo, Ghana."),
        ("Café d'Éthiopie en grains (250 g)", "food-drinks", 690, 20, False, "Torréfié à Toulouse."),
        ("Thé vert de Darjeeling (100 g)", "food-drinks", 590, 12, False, ""),
        ("Écharpe en alpaga", "clothing-women", 4500, 4, False, "Tissée à la main au Pérou."),
        ("Panier en osier tressé", "crafts", 2800, 3, False, "Artisanes du Ghana."),
        ("Bol en céramique émaillée", "crafts", 1600, 10, False, "Potiers du Burkina Faso."),
        ("Bougie à la cire végétale", "home-decor", 1400, 0, False, ""),
        ("Carnet en papier recyclé", "books-school", 700, 25, False, "Fabriqué au Népal en papier lokta."),
        ("Jeu de dames en bois", "toys-games", 2200, 2, False, "Sculpté au Kenya."),
        ("Savon noir à l'eucalyptus", "hygiene", 550, 14, False, ""),
    ],
    "bouquinerie-solidaire-les-pages-libres": [
        ("Les Misérables, Victor Hugo (2 tomes)", "books-novels", 600, 1, False, "Livre de poche, bon état."),
        ("Lot de cinq romans policiers", "books-novels", 800, 3, False, "Simenon, Vargas, Manchette."),
        ("L'Étranger, Albert Camus", "books-novels", 250, 2, False, "Folio."),
        ("Astérix et les Goths", "books-youth", 400, 1, False, "Édition de 1977."),
        ("Lot d'albums jeunesse 3-6 ans", "books-youth", 500, 6, False, "Six albums."),
        ("Dictionnaire Le Robert collège", "books-school", 600, 4, False, ""),
        ("Cartable en cuir", "books-school", 1800, 0, False, ""),
        ("Vinyle : Brassens, Les copains d'abord", "culture-music", 1200, 1, False, "Pochette usée, disque en bon état."),
        ("Guide du jardinage biologique", "home-garden", 700, 2, False, "Terre vivante."),
        ("Atlas du monde 2019", "books-school", 900, 1, False, ""),
    ],
    "recyclerie-recup-r": [
        ("Ordinateur portable reconditionné 14 pouces", "electronics-computers", 24000, 3, False, "Core i5, 8 Go, SSD 256 Go, Linux ou Windows, garantie 6 mois."),
        ("Écran 24 pouces Full HD", "electronics-computers", 6000, 5, False, "Garantie 6 mois."),
        ("Smartphone reconditionné 64 Go", "electronics-phones", 13000, 1, False, "Batterie neuve, débloqué tout opérateur."),
        ("Téléphone à grosses touches", "electronics-phones", 3500, 2, False, "Idéal pour les seniors."),
        ("Aspirateur traîneau", "electronics-appliances", 4500, 0, False, ""),
        ("Bouilloire électrique inox", "electronics-appliances", 1200, 4, False, "Testée et nettoyée."),
        ("Clavier et souris sans fil", "electronics-computers", 1500, 8, False, ""),
        ("Radio-réveil", "electronics-appliances", 800, 1, False, ""),
    ],
}

# The good the demo products do: each seller's impact kind, and the reuse weight (grams) of
# its second-hand and refurbished objects (shown on the shopfronts and in the impact reports).
IMPACT_KINDS = {
    "ressourcerie-la-trouvaille": ImpactKind.REUSE,
    "epicerie-solidaire-le-panier-partage": ImpactKind.LOCAL_FOOD,
    "atelier-velo-la-roue-libre": ImpactKind.REPAIR,
    "boutique-equitable-terre-commune": ImpactKind.FAIR_TRADE,
    "bouquinerie-solidaire-les-pages-libres": ImpactKind.REUSE,
    "recyclerie-recup-r": ImpactKind.REPAIR,
}
REUSE_WEIGHTS = {
    "Buffet en chêne années 60": 45000, "Chaise bistrot en bois courbé": 4500,
    "Service à café en porcelaine (12 pièces)": 2200, "Lot de verres à pied": 900,
    "Lampe de chevet en laiton": 1300, "Miroir ovale doré": 3000,
    "Manteau en laine femme taille 40": 1100, "Veste en jean homme taille L": 800,
    "Lot de bodies bébé 6 mois": 300, "Bottes de pluie enfant pointure 28": 600,
    "Puzzle 1000 pièces complet": 700, "Perceuse visseuse sans fil": 1600,
    "Vélo de ville révisé": 16000, "Vélo enfant 20 pouces": 9000, "VTT adulte taille M": 14000,
    "Antivol en U": 1200, "Casque vélo adulte": 350,
    "Les Misérables, Victor Hugo (2 tomes)": 800, "Lot de cinq romans policiers": 1200,
    "L'Étranger, Albert Camus": 150, "Astérix et les Goths": 300,
    "Lot d'albums jeunesse 3-6 ans": 1500, "Dictionnaire Le Robert collège": 1400,
    "Vinyle : Brassens, Les copains d'abord": 250, "Guide du jardinage biologique": 500,
    "Atlas du monde 2019": 1800,
    "Ordinateur portable reconditionné 14 pouces": 1800, "Écran 24 pouces Full HD": 4000,
    "Smartphone reconditionné 64 Go": 200, "Téléphone à grosses touches": 150,
    "Bouilloire électrique inox": 1000, "Clavier et souris sans fil": 600, "Radio-réveil": 500,
}
# Services are not objects: they do good, but weigh nothing.
NO_KIND = {"Atelier d'autoréparation (1 heure)"}

LOCATIONS = {
    # slug -> (name, instructions, opening hours, [(weekday, start, end, capacity, cutoff hours)])
    "ressourcerie-la-trouvaille": ("Boutique de la ressourcerie", "Entrée par la cour, sonnez à l'atelier.", "Du mercredi au samedi, de 10 h 00 à 18 h 00", [(2, time(14), time(16), 6, 2), (5, time(10), time(12), 8, 12)]),
    "epicerie-solidaire-le-panier-partage": ("Épicerie", "Retrait au comptoir, apportez vos sacs.", "Du mardi au samedi, de 9 h 30 à 19 h 00", [(1, time(17), time(19), 10, 4), (4, time(17), time(19), 10, 4)]),
    "atelier-velo-la-roue-libre": ("Atelier", "Au fond de la cour, sous le préau.", "Le mercredi de 14 h 00 à 19 h 00, le samedi de 10 h 00 à 17 h 00", [(2, time(16), time(19), 4, 2), (5, time(10), time(13), 4, 2)]),
    "boutique-equitable-terre-commune": ("Boutique", "", "Du lundi au samedi, de 10 h 00 à 19 h 00", [(3, time(12), time(14), 5, 2), (5, time(14), time(17), 6, 2)]),
    "bouquinerie-solidaire-les-pages-libres": ("Bouquinerie", "Demandez au comptoir.", "Le mercredi et le samedi, de 14 h 00 à 18 h 00", [(2, time(14), time(18), 6, 2), (5, time(14), time(18), 6, 2)]),
    "recyclerie-recup-r": ("Atelier de reconditionnement", "Hangar B, accès PMR.", "Du mardi au vendredi, de 9 h 00 à 17 h 00", [(1, time(9), time(12), 3, 24), (4, time(14), time(17), 3, 24)]),
}

PALETTE = ["#1d5c4b", "#8a4b2a", "#2f4d7a", "#6b3a6b", "#7a6a1d", "#3b6e2f", "#7a2f3b"]


def picture(title: str) -> bytes:
    """A 800×600 PNG: a colour chosen from the title, a pattern and the title in large letters."""
    digest = hashlib.sha256(title.encode()).digest()
    colour = PALETTE[digest[0] % len(PALETTE)]
    image = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(image)
    for i in range(6):
        radius = 60 + digest[i + 1] % 120
        x, y = digest[i + 7] * 3 % 800, digest[i + 13] * 2 % 600
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline="#ffffff", width=6)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 40)
    except OSError:  # no system font: Pillow's own font has no accented letters

        font, title = ImageFont.load_default(size=44), fold(title).capitalize()
    lines, line = [], ""
    for word in title.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) > 700 and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    top = 300 - len(lines) * 28
    for n, text in enumerate(lines[:4]):
        width = draw.textlength(text, font=font)
        draw.rectangle((400 - width / 2 - 12, top + n * 56 - 6, 400 + width / 2 + 12, top + n * 56 + 50), fill="#ffffff")
        draw.text((400 - width / 2, top + n * 56), text, fill="#1c1f1e", font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed_catalog(*, with_photos: bool = True) -> int:
    """Products, locations, templates and the coming weeks' slots of the demo sellers; idempotent."""
    created = 0
    for slug, items in PRODUCTS.items():
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == slug))
        if org is None:
            continue
        owner = next(m.user for m in org.memberships if m.role.value == "owner")
        existing = set(db.session.scalars(sa.select(Product.title).where(Product.organization_id == org.id)))
        for title, category_slug, price, stock, perishable, description in items:
            if title in existing:
                continue
            product = catalog.create_product(
                org, title=title, description=description, price_cents=price, vat_rate_bp=550 if category_slug.startswith("food") else 2000,
                category=catalog.get_category(category_slug), stock=stock, is_perishable=perishable, by=owner,
            )
            if with_photos:
                catalog.add_photo(product, picture(title), alt_text=title, by=owner)
            created += 1
        _seed_impact(org)
        _seed_pickup(org, owner)
    _seed_views()
    db.session.flush()
    return created


def _seed_views(days: int = 30) -> None:
    """Page views of the last `days` days, so that the sellers' dashboards have something to
    show (marketplace/audience.py counts the real ones); once."""
    if db.session.scalar(sa.select(PageViewDay.day).limit(1)) is not None:
        return
    today = datetime.now(UTC).date()
    referrers = ("", INTERNAL, "facebook.com", "google.com", "qwant.com")
    slugs = list(PRODUCTS)
    rows = []
    for kind, object_id, weight in [
        *[(PageKind.PRODUCT, p.id, 1 + p.id % 5) for p in db.session.scalars(
            sa.select(Product).join(Organization).where(Organization.slug.in_(slugs)))],
        *[(PageKind.SHOPFRONT, o.id, 8) for o in db.session.scalars(
            sa.select(Organization).where(Organization.slug.in_(slugs)))],
    ]:
        for n in range(days):
            day = today - timedelta(days=n)
            digest = hashlib.sha256(f"{kind}{object_id}{day}".encode()).digest()
            for i, referrer in enumerate(referrers[: 1 + digest[0] % len(referrers)]):
                views = (digest[i + 1] % 4) * weight // (i + 1) + (weight if day.weekday() >= 5 else 0)
                if views:
                    rows.append(PageViewDay(day=day, kind=kind.value, object_id=object_id,
                                            referrer=referrer, views=views))
    db.session.add_all(rows)


def _seed_impact(org: Organization) -> None:
    """The demo's impact kinds and weights, on the products that have none yet."""
    for product in db.session.scalars(sa.select(Product).where(Product.organization_id == org.id,
                                                               Product.impact_kind.is_(None))):
        if product.title in NO_KIND:
            continue
        product.impact_kind = IMPACT_KINDS.get(org.slug)
        product.reuse_weight_grams = REUSE_WEIGHTS.get(product.title)


def _seed_pickup(org: Organization, owner) -> None:
    name, instructions, hours, templates = LOCATIONS[org.slug]
    location = db.session.scalar(sa.select(PickupLocation).where(PickupLocation.organization_id == org.id))
    if location is None:
        location = pickup.save_location(
            None, org, by=owner, name=name, address_line=org.address_line, postcode=org.postcode,
            town=org.town, instructions=instructions, opening_hours=hours,
        )
        for weekday, start, end, capacity, cutoff in templates:
            pickup.save_template(None, location, weekday=weekday, start_time=start, end_time=end,
                                 capacity=capacity, cutoff_hours=cutoff, by=owner)
    # As far ahead as the sellers' pickup pages say, and as the weekly job publishes them.
    pickup.generate_slots(location, weeks=pickup.DEFAULT_WEEKS_AHEAD)
