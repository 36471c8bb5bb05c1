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
