"""The category a new product most likely belongs to: the words of its title matched against
the categories' names and a few everyday words of each (French and English), then the seller's
recent choices. Used by the quick listing screen (catalog/quick.py) to pre-fill its select."""
from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog import search
from marketplace.catalog.models import Category, Product
from marketplace.db import db

RECENT_PRODUCTS = 30  # the seller's newest products read for its recent categories
RECENT_CATEGORIES = 4

# Everyday words of what a ressourcerie or a producer lists, by category slug (accents and
# plurals do not matter: both sides go through search.words and search.singular).
KEYWORDS: dict[str, str] = {
    "food-fresh": "legume fruit fromage oeuf viande lait yaourt salade pomme",
    "food-grocery": "confiture miel farine pates riz conserve biscuit chocolat cafe the epice",
    "food-drinks": "jus vin biere cidre sirop limonade eau juice wine beer",
    "clothing-women": "robe jupe chemisier blouse sac main dress skirt femme",
    "clothing-men": "costume cravate chemise homme suit tie shirt",
    "clothing-children": "body pyjama bebe enfant baby grenouillere",
    "clothing-shoes": "chaussure basket botte sandale escarpin shoe boot sneaker",
    "clothing": "pull manteau veste jean pantalon tshirt t-shirt echarpe bonnet gilet coat "
                "jacket sweater trousers",
    "books-novels": "roman polar poche novel",
    "books-youth": "bd manga album comic jeunesse",
    "books-school": "cahier cartable trousse stylo classeur calculatrice agenda",
    "books": "livre dictionnaire encyclopedie book",
    "culture-music": "cd vinyle disque dvd film blu-ray cassette vinyl record guitare piano",
    "culture-crafts": "laine tricot peinture perle couture fil canevas",
    "culture-sport": "raquette ballon ski roller skate tennis yoga halter",
    "home-furniture": "table chaise fauteuil armoire commode canape etagere bureau buffet lit "
                      "chevet chair sofa shelf desk wardrobe",
    "home-kitchen": "assiette verre tasse bol casserole poele plat couvert theiere saladier "
                    "cocotte plate glass cup mug pan",
    "home-decor": "lampe miroir cadre vase drap rideau coussin nappe housse tapis bougeoir "
                  "lamp mirror frame curtain cushion rug",
    "home-garden": "perceuse outil marteau tournevis pot jardiniere scie rateau pelle arrosoir "
                   "drill tool hammer",
    "mobility-bikes": "velo vtt bicyclette trottinette draisienne bike bicycle scooter",
    "mobility-parts": "pneu chambre selle guidon antivol casque pompe roue porte-bagage "
                      "tyre saddle lock helmet pump wheel",
    "mobility-repair": "revision reparation",
    "toys-baby": "hochet doudou peluche poussette eveil landau",
    "toys-games": "puzzle jeu societe carte domino echec game",
    "toys": "jouet lego playmobil poupee voiture toy doll",
    "hygiene": "savon shampoing creme brosse parfum soap shampoo",
    "electronics-computers": "ordinateur portable pc laptop ecran clavier souris imprimante "
                             "tablette computer screen keyboard mouse printer",
    "electronics-phones": "telephone smartphone iphone portable chargeur phone charger",
    "electronics-appliances": "grille-pain bouilloire cafetiere mixeur aspirateur fer "
                              "micro-onde radio enceinte toaster kettle blender vacuum",
    "crafts": "artisanal fait-main equitable handmade",
    "services": "atelier cours formation workshop",
}


def _terms(text: str) -> set[str]:
    return {search.singular(word) for word in search.words(text)}


def _category_terms(category: Category) -> set[str]:
    return _terms(f"{category.name_fr} {category.name_en} {KEYWORDS.get(category.slug, '')}")


def recent_category_ids(organization) -> list[int]:
    """The categories of the seller's newest products, the most recent first (a few)."""
    rows = db.session.execute(
        sa.select(Product.category_id)
        .where(Product.organization_id == organization.id)
        .order_by(Product.id.desc())
        .limit(RECENT_PRODUCTS)
    ).scalars()
    found: list[int] = []
    for category_id in rows:
        if category_id not in found:
            found.append(category_id)
        if len(found) == RECENT_CATEGORIES:
            break
    return found


def from_title(title: str, tree: list[Category], *, recent: list[int] = ()) -> Category | None:
    """The category one can choose (a sub-category, or a main one without any) whose names and
    words, with its main category's, share the most words with `title`. On a tie,
    one of the seller's recent categories, then the first in the tree. None: no word matches."""
    words = _terms(title)
    if not words:
        return None
    best, best_key = None, None
    for root in tree:
        root_score = len(words & _category_terms(root))
        for category in root.children or [root]:
            score = root_score + (0 if category is root else len(words & _category_terms(category)))
            if score == 0:
                continue
            key = (score, category.id in recent)
            if best_key is None or key > best_key:
                best, best_key = category, key
    return best


def best_guess(organization, title: str, tree: list[Category]) -> Category | None:
    """What the select shows first: the title's match, else the seller's latest category."""
    recent = recent_category_ids(organization)
    guess = from_title(title, tree, recent=recent) if title else None
    if guess is not None:
        return guess
    if recent:
        return db.session.get(Category, recent[0])
    return None
