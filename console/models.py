"""All Peewee models, one import point. Each area keeps its tables in its own module
(models_system, and later people and orders) so every file reads in one sitting."""
from console.db import BaseModel, JSONField, MoneyField, db, utcnow  # noqa: F401
from console.models_catalogue import *  # noqa: F401,F403
from console.models_catalogue import CATALOGUE_MODELS
from console.models_orders import *  # noqa: F401,F403
from console.models_orders import ORDER_MODELS
from console.models_people import *  # noqa: F401,F403
from console.models_people import PEOPLE_MODELS
from console.models_system import *  # noqa: F401,F403
from console.models_system import SYSTEM_MODELS

ALL_MODELS = [*SYSTEM_MODELS, *PEOPLE_MODELS, *CATALOGUE_MODELS, *ORDER_MODELS]
