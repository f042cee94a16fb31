"""All Peewee models, one import point. Each area keeps its tables in its own module
(models_system, and later people and orders) so every file reads in one sitting."""
from console.db import BaseModel, JSONField, MoneyField, db, utcnow  # noqa: F401
from console.models_system import *  # noqa: F401,F403
from console.models_system import SYSTEM_MODELS

ALL_MODELS = [*SYSTEM_MODELS]
