"""The fixed category tree. Slugs are stable: later rules (works-council events) refer to them.

The migration that creates the `category` table inserts exactly this tree; `sync_categories`
brings a database in line with it (tests, and any future addition before its migration).
"""
from __future__ import annotations

from dataclasses import dataclass

# (slug, French name, English name, children)
CATEGORY_TREE: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("food", "Alimentation", "Food", [
        ("food-fresh", "Produits frais", "Fresh produce"),
        ("food-grocery", "Épicerie", "Grocery"),
        ("food-drinks", "Boissons", "Drinks"),
    ]),
    ("clothing", "Vêtements et accessoires", "Clothing and accessories", [
        ("clothing-women", "Femme", "Women"),
        ("clothing-men", "Homme", "Men"),
        ("clothing-children", "Enfant", "Children"),
        ("clothing-shoes", "Chaussures", "Shoes"),
    ]),
    ("books", "Livres et fournitures scolaires", "Books and school supplies", [
        ("books-novels", "Romans", "Novels"),
        ("books-youth", "Jeunesse et BD", "Children's books and comics"),
        ("books-school", "Fournitures scolaires", "School supplies"),
    ]),
    ("culture", "Culture et loisirs", "Culture and leisure", [
        ("culture-music", "Musique et films", "Music and films"),
        ("culture-crafts", "Loisirs créatifs", "Arts and crafts"),
        ("culture-sport", "Sport", "Sport"),
    ]),
    ("home", "Maison", "Home", [
        ("home-furniture", "Meubles", "Furniture"),
        ("home-kitchen", "Cuisine et vaisselle", "Kitchen and tableware"),
        ("home-decor", "Décoration et linge", "Decoration and linen"),
        ("home-garden", "Jardin et bricolage", "Garden and DIY"),
    ]),
    ("mobility", "Vélos et mobilité", "Bikes and mobility", [
        ("mobility-bikes", "Vélos", "Bikes"),
        ("mobility-parts", "Pièces et accessoires", "Parts and accessories"),
        ("mobility-repair", "Réparation et entretien", "Repair and servicing"),
    ]),
    ("toys", "Jouets et jeux", "Toys and games", [
        ("toys-baby", "Éveil et petite enfance", "Baby and toddler"),
        ("toys-games", "Jeux de société", "Board games"),
    ]),
    ("hygiene", "Hygiène et beauté", "Hygiene and beauty", []),
    ("electronics", "Électronique reconditionnée", "Second-hand electronics", [
        ("electronics-computers", "Ordinateurs", "Computers"),
        ("electronics-phones", "Téléphones", "Phones"),
        ("electronics-appliances", "Petit électroménager", "Small appliances"),
    ]),
    ("crafts", "Artisanat et commerce équitable", "Crafts and fair trade", []),
    ("services", "Services et ateliers", "Services and workshops", []),
]


@dataclass(frozen=True)
class CategoryRow:
    slug: str
    name_fr: str
    name_en: str
    parent_slug: str | None
    position: int


def category_rows() -> list[CategoryRow]:
    rows = []
    for position, (slug, fr, en, children) in enumerate(CATEGORY_TREE):
        rows.append(CategoryRow(slug, fr, en, None, position))
        for child_position, (child_slug, child_fr, child_en) in enumerate(children):
            rows.append(CategoryRow(child_slug, child_fr, child_en, slug, child_position))
    return rows
