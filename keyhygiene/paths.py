"""Every path the app uses, in one place.

platformdirs gives the per-OS defaults; ``--data-dir`` / ``KEYHYGIENE_DATA_DIR`` overrides the data dir so tests,
the demo and several vaults can live side by side. When the data dir is overridden, logs and settings move under
it too, so an overridden vault never writes into the user's real profile.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keyhygiene import APP_NAME

DATA_DIR_ENV = "KEYHYGIENE_DATA_DIR"
DEMO_SAMPLES_DIR = "samples"
RESOURCES = "resources"  # the folder's name, in the package and in the repository


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
    def vault_id_file(self) -> Path:
        """The vault ids this data dir has used, newest first, beside the database: they name the keychain entries,
        so a lost or damaged database does not orphan them for good (``doctor`` finds and adopts them)."""
        return self.data_dir / "vault-id"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "keyhygiene.log"

    @property
    def backups_dir(self) -> Path:
        """Where files are copied before the app changes them (corrupt databases, cleaned-up configs)."""
        return self.data_dir / "backups"

    def ensure(self) -> list[str]:
        """Create the folders the app writes to; returns warnings for the user (issue 18).

        A folder the app creates is 0700: only the owner may read metadata and logs, which name exchanges,
        services and labels. A folder that already existed and was given with ``--data-dir`` is the user's: its
        mode is kept, but the user is warned when others can read or enter it."""
        warnings: list[str] = []
        for d in (self.data_dir, self.log_dir):
            existed = d.is_dir()
            d.mkdir(parents=True, exist_ok=True)
            if existed and self.overridden:
                if os.name == "posix" and d == self.data_dir:
                    mode = stat.S_IMODE(d.stat().st_mode)
                    if mode & 0o077:
                        warnings.append(
                            f"the data folder {d} can be read by other users (mode {mode:04o}); it holds the names "
                            f"of your keys, exchanges and services. Consider `chmod 700 {d}`."
                        )
                continue
            try:
                os.chmod(d, 0o700)
            except OSError:
                pass
        return warnings


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
    """The shipped resources (icons, report templates, the exposure registry), read through importlib.resources.

    A wheel and the frozen bundle carry them inside the package, as ``keyhygiene/resources`` (pyproject.toml's
    force-include and packaging/keyhygiene.spec both map the repository's top-level resources/ there). A source
    checkout, run in place or installed editable, reads them where the build takes them from: resources/ beside the
    package. Nothing is looked up under the interpreter's prefix: pipx, a bundle or another venv's python would not
    find data files there.
    """
    package = _package_files()
    if not isinstance(package, Path):  # a zip import: templates and Qt need real files
        raise FileNotFoundError(f"KeyHygiene resources need the package unpacked on disk, not in {package}")
    inside = package / RESOURCES
    if inside.is_dir():
        return inside
    checkout = package.parent / RESOURCES
    # Only a source checkout (its pyproject.toml beside the package): a stray site-packages/resources of another
    # distribution must not pass for ours when a broken wheel lacks them.
    if checkout.is_dir() and (package.parent / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(f"KeyHygiene resources not found; looked in: {inside}, {checkout}")


def _package_files() -> Any:
    """``importlib.resources.files("keyhygiene")``. A package imported from plain files (a wheel installed, a
    checkout, an editable install) is its folder, which is what importlib.resources says for it too; only other
    loaders (the frozen bundle's, a zip) go through importlib.resources, whose import (8 modules, ~9 M
    instructions) is otherwise paid by the first frame's exchange icons (issue 21)."""
    from importlib.machinery import SourceFileLoader, SourcelessFileLoader

    import keyhygiene

    spec = keyhygiene.__spec__
    if spec is not None and spec.origin and isinstance(spec.loader, SourceFileLoader | SourcelessFileLoader):
        return Path(spec.origin).parent
    import importlib.resources

    return importlib.resources.files("keyhygiene")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
