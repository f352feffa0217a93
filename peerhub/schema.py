"""Every table PeerHub has, in one ``metadata``: models.py's and each package's own.

models.py holds the shared models and imports no package; each package's models import
only models.py (for ``Base``). What needs every table (Alembic's environment, the data
export's walk over the schema, the tests that create or empty the database) imports
``metadata`` from here, which imports every models module first. No models module
imports this one.
"""

from __future__ import annotations

import peerhub.accounts.models_2fa
import peerhub.accounts.models_recovery
import peerhub.care.models
import peerhub.checkins.models
import peerhub.duty.models
import peerhub.groups.models
import peerhub.moderation.models
import peerhub.notify.models
import peerhub.outbox.models
import peerhub.outcomes.models
import peerhub.privacy.models
import peerhub.realtime.models
import peerhub.rotas.models
import peerhub.security.models
import peerhub.sharing.models
from peerhub.models import Base

metadata = Base.metadata

#: The modules above, which tests/test_import_cycles.py checks are all of them.
MODEL_MODULES = (
    peerhub.accounts.models_2fa,
    peerhub.accounts.models_recovery,
    peerhub.checkins.models,
    peerhub.duty.models,
    peerhub.care.models,
    peerhub.groups.models,
    peerhub.moderation.models,
    peerhub.notify.models,
    peerhub.outbox.models,
    peerhub.outcomes.models,
    peerhub.privacy.models,
    peerhub.realtime.models,
    peerhub.rotas.models,
    peerhub.security.models,
    peerhub.sharing.models,
)
