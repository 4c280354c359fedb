"""The app under fuzz and its schema, made when the tests are collected.

Schemathesis parametrizes tests from a schema that exists at collection time, before any
fixture has created the database. The app's lifespan reads `SETTINGS.database_url` only when
it starts, on the first request, so the `fuzz_database` fixture fills it in first.
"""

from __future__ import annotations

import copy
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig

import tests.fuzz.checks  # noqa: F401  (registers the check of our own)
from app.core.config import Settings
from app.main import create_app

SETTINGS = Settings(log_level="CRITICAL", db_pool_size=5, db_max_overflow=0)
APP = create_app(SETTINGS)
CONFIG = SchemathesisConfig.from_path(Path(__file__).with_name("schemathesis.toml"))
# A copy: schemathesis adds the links it infers to the document it is given.
SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(APP.openapi()), config=CONFIG)
SCHEMA.app = APP
