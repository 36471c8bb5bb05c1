"""The migrations build the whole schema from nothing, and match the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marketplace import create_app
from marketplace.db import db, include_object


def test_migrations_apply_to_an_empty_database_and_match_the_models(empty_database_url):
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ, run flask db migrate: {differences}"
        _assert_categories_match_the_code()
        # And back down to nothing, so every revision can be undone.
        downgrade(revision="base")
        with db.engine.connect() as connection:
            remaining = {
                name
                for name in db.inspect(connection).get_table_names()
                if name != "alembic_version" and include_object(None, name, "table", True, None)
            }
        assert remaining == set()
        db.engine.dispose()


def _assert_categories_match_the_code():
    import sqlalchemy as sa

    from marketplace.catalog.categories import category_rows
    from marketplace.catalog.models import Category

    stored = {
        (c.slug, c.name_fr, c.name_en, c.parent.slug if c.parent else None, c.position)
        for c in db.session.scalars(sa.select(Category))
    }
    expected = {(r.slug, r.name_fr, r.name_en, r.parent_slug, r.position) for r in category_rows()}
    assert stored == expected, "the category tree changed: add a migration that updates it"
    db.session.remove()


def test_the_held_counters_start_from_the_holds_already_there(empty_database_url):
    """0005 adds product.held_units and pickup_slot.held_places: a database with unpaid
    checkouts gets counters equal to its holds in state held (expired or not)."""
    import datetime

    import sqlalchemy as sa

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0004")
        tables = sa.MetaData()
        tables.reflect(db.engine)
        now = datetime.datetime.now(datetime.UTC)
        with db.engine.begin() as connection:
            def insert(name, **values):
                # Every other required column gets a plain value of its type.
                for column in tables.tables[name].columns:
                    if column.name in values or column.nullable or column.primary_key \
                            or column.server_default is not None:
                        continue
                    python_type = column.type.python_type
                    values[column.name] = {int: 1, bool: False, str: "x", datetime.datetime: now,
                                           datetime.time: datetime.time(9)}.get(python_type, "x")
                return connection.execute(tables.tables[name].insert().values(**values)).inserted_primary_key[0]

            category = connection.execute(sa.text("SELECT min(id) FROM category")).scalar()
            seller = insert("organization", slug="ressourcerie", status="approved")
            product = insert("product", organization_id=seller, category_id=category, stock=9,
                             vat_rate_bp=2000, status="active")
            location = insert("pickup_location", organization_id=seller)
            slot = insert("pickup_slot", location_id=location, starts_at=now,
                          ends_at=now + datetime.timedelta(hours=2), capacity=5, booked=0)
            order = insert("order", reference="ESS-2026-000001", status="pending_payment")
            for quantity, state, minutes in ((2, "held", 10), (1, "held", -10), (4, "released", 10),
                                             (3, "consumed", 10)):
                insert("hold", order_id=order, product_id=product, quantity=quantity, state=state,
                       expires_at=now + datetime.timedelta(minutes=minutes))
            insert("hold", order_id=order, slot_id=slot, quantity=1, state="held",
                   expires_at=now + datetime.timedelta(minutes=10))

        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT held_units FROM product")).scalar() == 3
            assert connection.execute(sa.text("SELECT held_places FROM pickup_slot")).scalar() == 1
            try:  # and the counters cannot go below zero
                connection.execute(sa.text("UPDATE product SET held_units = -1"))
                raise AssertionError("a negative counter was accepted")
            except sa.exc.IntegrityError:
                connection.rollback()
        downgrade(revision="0004")
        db.engine.dispose()


def test_the_search_index_is_rebuilt_with_its_weights(empty_database_url):
    """0006 splits the search index into title, category and the rest: products already there
    are found and ranked by it (a word in the title first, accents folded), and going back
    to 0005 gives the old index again."""
    import datetime

    import sqlalchemy as sa

    from marketplace.catalog.listing import ProductFilters, list_products

    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0005")
        now = datetime.datetime.now(datetime.UTC)
        with db.engine.begin() as connection:
            category = connection.execute(
                sa.text("SELECT id FROM category WHERE slug = 'home-furniture'")).scalar()
            seller = connection.execute(sa.text(
                "INSERT INTO organization (kind, status, name, slug, address_line, postcode, town, "
                "vat_exempt, ess_status, description, commission_rate_bp, restock_no_shows, "
                "payouts_enabled, created_at, updated_at) VALUES ('association', 'approved', "
                "'Ressourcerie du Canal', 'canal', '1 quai', '69001', 'Lyon', true, 'association', '', "
                "500, true, false, :now, :now) RETURNING id"), {"now": now}).scalar()
            for title, description in (("Lampe de chevet", "Abat-jour en lin."),
                                        ("Table de nuit en chêne", "Avec sa lampe assortie.")):
                connection.execute(sa.text(
                    "INSERT INTO product (organization_id, category_id, title, description, "
                    "price_cents, vat_rate_bp, stock, held_units, is_perishable, status, search_text, "
                    "created_at, updated_at) VALUES (:seller, :category, :title, :description, 1000, "
                    "2000, 1, 0, false, 'active', 'stale', :now, :now)"),
                    {"seller": seller, "category": category, "title": title,
                     "description": description, "now": now})

        upgrade()

        def found(query):
            return [p.title for p in list_products(ProductFilters(q=query, sort="relevance")).items]

        with app.test_request_context():
            assert found("lampe") == ["Lampe de chevet", "Table de nuit en chêne"]
            assert found("meubles chene") == ["Table de nuit en chêne"]  # category, accents, plural
            assert sorted(found("ressourcerie canal lyon")) == ["Lampe de chevet", "Table de nuit en chêne"]
            db.session.remove()
        downgrade(revision="0005")
        with db.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                bodies = connection.execute(sa.text("SELECT body FROM product_fts")).scalars().all()
                assert any("lampe de chevet" in body for body in bodies)
            else:
                assert connection.execute(sa.text(
                    "SELECT count(*) FROM product WHERE search_vector @@ "
                    "to_tsquery('fr_unaccent', 'chene')")).scalar() == 1
        db.engine.dispose()
