"""Every path the app uses, in one place.

platformdirs gives the per-OS defaults; ``--data-dir`` / ``KEYHYGIENE_DATA_DIR`` overrides the data dir so tests,
the demo and several vaults can live side by side. When the data dir is overridden, logs and settings move under
it too, so an overridden vault never writes into the user's real profile.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from keyhygiene import APP_NAME

DATA_DIR_ENV = "KEYHYGIENE_DATA_DIR"
DEMO_SAMPLES_DIR = "samples"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    log_dir: Path
    overridden: bool
    # The demo's temporary folder: when set, the app changes no file outside it (keyhygiene.core.discovery.confine).
    sandbox: Path | None = None

    @property
    def demo_samples(self) -> Path | None:
        """The demo's sample bot configs (copied from resources/demo/scan on start), for the scanner."""
        return self.sandbox / DEMO_SAMPLES_DIR if self.sandbox is not None else None

    @property
    def database(self) -> Path:
        return self.data_dir / "keyhygiene.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "keyhygiene.log"

    @property
    def backups_dir(self) -> Path:
        """Where files are copied before the app changes them (corrupt databases, cleaned-up configs)."""
        return self.data_dir / "backups"

    def ensure(self) -> None:
        for d in (self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
            # Only the owner may read metadata and logs: they name exchanges, services and labels.
            try:
                os.chmod(d, 0o700)
            except OSError:
                pass


def app_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Resolve paths: explicit argument, then the environment, then platformdirs."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if chosen:
        base = Path(chosen).expanduser().resolve()
        return AppPaths(data_dir=base, log_dir=base / "logs", overridden=True)
    import platformdirs  # only for the defaults: ~5 ms of every start-up otherwise

    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        overridden=False,
    )


def resources_dir() -> Path:
    """The shipped resources: frozen bundle, source checkout, or a wheel's data files."""
    candidates: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    candidates.append(Path(sys.prefix) / "share" / "keyhygiene" / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError("KeyHygiene resources not found; looked in: " + ", ".join(map(str, candidates)))


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
