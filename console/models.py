"""All Peewee models, one import point. Each area keeps its tables in its own module
(models_system, and later people and orders) so every file reads in one sitting."""
from console.catalogue.models import *  # noqa: F401,F403
from console.catalogue.models import CATALOGUE_MODELS
from console.db import BaseModel, JSONField, MoneyField, db, utcnow  # noqa: F401
from console.orders.models import *  # noqa: F401,F403
from console.orders.models import ORDER_MODELS
from console.people.models import *  # noqa: F401,F403
from console.people.models import PEOPLE_MODELS
from console.system.models import *  # noqa: F401,F403
from console.system.models import SYSTEM_MODELS

ALL_MODELS = [*SYSTEM_MODELS, *PEOPLE_MODELS, *CATALOGUE_MODELS, *ORDER_MODELS]
