from sqlalchemy import inspect, text

from opspoor.store.db import make_engine, migrate


def test_migrate_is_idempotent_on_both_backends(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
        assert "alembic_version" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
