"""Alembic environment: runs on the connection that opspoor.store.db.migrate hands over."""

from alembic import context

from opspoor.store.db import Base

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand with -x url=...
    from opspoor.store.db import make_engine

    url = context.get_x_argument(as_dictionary=True).get("url")
    connection = make_engine(url).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
