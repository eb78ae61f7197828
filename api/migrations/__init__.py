"""Alembic migrations of the service's schema, applied at start-up by ``api.db.migrate``.

To write a new revision against a scratch database::

    alembic -c api/migrations/alembic.ini revision --autogenerate -m "what changed"
"""
