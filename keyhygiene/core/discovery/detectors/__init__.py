"""The format detectors, most specific first: a file belongs to the first detector that finds keys in it.

Adding a format = one module with a class that has ``format``, ``tool``, ``wants(name, parent)`` and
``detect(document)`` (see base.Detector), listed here and covered by the fixture tree in the tests.
"""

from __future__ import annotations

from keyhygiene.core.discovery.detectors.base import Detector
from keyhygiene.core.discovery.detectors.ccxt_keys import ExchangeMapDetector
from keyhygiene.core.discovery.detectors.cryptohopper import CryptohopperDetector
from keyhygiene.core.discovery.detectors.dotenv_file import DotenvDetector
from keyhygiene.core.discovery.detectors.freqtrade import FreqtradeDetector
from keyhygiene.core.discovery.detectors.gunbot import GunbotDetector
from keyhygiene.core.discovery.detectors.hummingbot import HummingbotDetector
from keyhygiene.core.discovery.detectors.octobot import OctoBotDetector

DETECTORS: tuple[Detector, ...] = (
    HummingbotDetector(),
    CryptohopperDetector(),
    OctoBotDetector(),
    FreqtradeDetector(),
    GunbotDetector(),
    ExchangeMapDetector(),
    DotenvDetector(),
)

BY_FORMAT: dict[str, Detector] = {d.format: d for d in DETECTORS}

# A cheap test every file name goes through before any detector is asked: most files fail it on the first
# comparison. Must accept every name some detector ``wants``.
_PREFIXES = ("config", ".env", "keys", "profile", "credentials", "secrets", "api_keys", "apikeys", "exchanges",
             "encrypted_")
_SUFFIXES = (".env", ".yml", ".yaml")


def may_hold_keys(name: str) -> bool:
    return name.startswith(_PREFIXES) or name.endswith(_SUFFIXES)


def detectors_for(name: str, parent: str) -> list[Detector]:
    """Detectors whose file-name rule accepts ``name`` (lowercased) in a folder named ``parent`` (lowercased)."""
    if not may_hold_keys(name):
        return []
    return [d for d in DETECTORS if d.wants(name, parent)]
