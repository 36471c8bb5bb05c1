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
