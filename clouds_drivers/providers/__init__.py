"""Public-cloud providers behind one contract (``base.Provider``), one module per cloud.

Importing a provider module pulls in its cloud's SDK only; ``get`` picks one by name.
"""

from __future__ import annotations

from clouds_drivers.providers.base import CloudError, Provider

NAMES = ("aws", "yandex")

__all__ = ["NAMES", "CloudError", "Provider"]
