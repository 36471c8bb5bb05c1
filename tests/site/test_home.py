import re

from marketplace.organizations.models import OrganizationKind, OrganizationStatus


def test_home_lists_only_approved_sellers_in_french(client, make_organization):
    make_organization(name="Ressourcerie du Canal")
    make_organization(name="Épicerie en attente", status=OrganizationStatus.PENDING)
    make_organization(name="CSE Usine", kind=OrganizationKind.WORKS_COUNCIL)
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ressourcerie du Canal" in page
    assert "Épicerie en attente" not in page
    assert "CSE Usine" not in page
    assert '<html lang="fr">' in page


def test_home_features_the_newest_products_in_stock(client, make_organization, make_product):
    from marketplace.db import db

    shop = make_organization(name="Ressourcerie du Canal")
    pending = make_organization(name="Épicerie en attente", status=OrganizationStatus.PENDING)
    for n in range(9):
        make_product(shop, title=f"Objet numéro {n}", price_cents=1250)
    make_product(shop, title="Objet épuisé", stock=0)
    make_product(pending, title="Objet en attente")
    make_product(shop, title="Atelier couture", stock=None)  # unlimited counts as in stock
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    featured = re.findall(r'class="product-card-title"><a href="/products/\d+-[a-z0-9-]+">([^<]+)</a>', page)
    assert featured == ["Atelier couture", *(f"Objet numéro {n}" for n in range(8, 1, -1))]
    assert "12,50\u00a0€" in page
    assert "Ressourcerie du Canal · Lyon" in page
    assert 'class="product-card-photo photo-placeholder"' in page


def test_home_links_to_every_category(client):
    page = client.get("/").get_data(as_text=True)
    assert '<a class="category-root" href="/products?category=mobility">Vélos et mobilité</a>' in page
    assert '<a href="/products?category=mobility-bikes">Vélos</a>' in page
    assert page.count('href="/products?category=') == 36


def test_home_without_products(client):
    assert 'class="product-grid"' not in client.get("/").get_data(as_text=True)
