"""Files only for the service: who may read what the instance keeps on disk.

Stored files (evidence originals, derivatives, dossier PDFs, cached dossier sections) are 0440:
never written again, readable by the service's group, which a backup user may be given; the
folders that hold them, and the instance folder, are 0750; the database file, its -wal, -shm
and -journal files, the keys and the one-time password are 0600. Each is created so, with its
mode given to `os.open` or `mkdir` (never left to the umask); `ihl init` tightens what an older
version or a careless copy left looser, and `ihl verify` warns about anything looser it finds.
A stricter mode (0400, 0700) and a folder's setgid bit (new files take the backup group) stay.

Each feature names the files it keeps (`register_kept_paths`); the core names its own here.
"""

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

STORED_FILE = 0o440
PRIVATE_FILE = 0o600
FOLDER = 0o750
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# Beyond this many paths of one kept folder, `ihl verify` counts the loose ones instead.
NAMED_AT_MOST = 20

CLASSES = (("its owner", 6), ("its group", 3), ("others", 0))


@dataclass(frozen=True)
class Kept:
    """A file or folder of the instance and the loosest mode it may have. A folder's `files`
    is the mode of every file beneath it (its sub-folders are FOLDER), unless a sub-folder is
    a Kept folder of its own."""

    path: Path
    mode: int
    files: int | None = None


@dataclass(frozen=True)
class Loose:
    """A path found looser than it may be."""

    kept: Kept      # the entry it belongs to
    path: str       # a string: a store may hold millions of loose files
    mode: int       # its permission bits now
    allowed: int    # the loosest allowed
    folder: bool

    @property
    def tightened(self) -> int:
        return self.mode & ~(self.mode & 0o777 & ~self.allowed)

    def describe(self) -> str:
        return (f"{self.path}: mode {self.mode & 0o777:04o}, expected {self.allowed:04o} or "
                f"stricter ({too_much(self.mode & 0o777 & ~self.allowed, self.folder)})")


KeptPaths = Callable[[Flask], list[Kept]]


def init_app(app: Flask) -> None:
    app.extensions["ihl_kept_paths"] = [core_paths]


def register_kept_paths(app: Flask, kept: KeptPaths) -> None:
    """Add the files a feature keeps: `kept(app)` names them with their modes."""
    app.extensions["ihl_kept_paths"].append(kept)


# --- creating ------------------------------------------------------------------------------

def make_folder(path: str | os.PathLike) -> Path:
    """Make `path` and any missing parent, each 0750 (whatever the umask); an existing folder
    is left as it is."""
    path = Path(path)
    if not path.is_dir():
        if not path.parent.exists():
            make_folder(path.parent)
        try:
            path.mkdir(mode=FOLDER)  # the umask can only take more away
        except FileExistsError:
            pass
    return path


def sqlite_file(url: str) -> Path | None:
    """The database file a sqlite:/// URL names, or None (another database, or in memory)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def prepare_sqlite_file(url: str) -> None:
    """Create the SQLite database file a URL names, empty and 0600, before SQLite opens it:
    SQLite gives the -wal, -shm and -journal files the mode of the database file, and would
    create a missing one readable by everyone. A folder that does not exist is not made: the
    database's own error then names it."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except (FileExistsError, FileNotFoundError):
        pass


# --- what the core keeps ---------------------------------------------------------------------

def core_paths(app: Flask) -> list[Kept]:
    """The instance folder, the databases and keys in it, and the evidence store."""
    instance = Path(app.instance_path)
    kept = [Kept(instance, FOLDER), Kept(instance / "secret_key", PRIVATE_FILE),
            Kept(Path(app.config["SIGNING_KEY"]), PRIVATE_FILE)]
    for url in (app.config["DATABASE_URL"], app.config["QUEUE_URL"]):
        database = sqlite_file(url)
        if database is not None:
            kept += [Kept(Path(f"{database}{suffix}"), PRIVATE_FILE)
                     for suffix in ("", *SQLITE_COMPANIONS)]
    store = app.extensions["ihl_store"]
    kept += [Kept(store.root, FOLDER, files=STORED_FILE), Kept(store.tmp, FOLDER,
                                                               files=PRIVATE_FILE)]
    return kept


def kept_paths(app: Flask) -> list[Kept]:
    return [entry for kept in app.extensions["ihl_kept_paths"] for entry in kept(app)]


# --- checking and tightening ---------------------------------------------------------------

def loose_paths(app: Flask) -> list[Loose]:
    """Every kept path looser than it may be, in a fixed order. Paths that do not exist (yet)
    are no concern."""
    entries = kept_paths(app)
    own_folders = {str(entry.path) for entry in entries if entry.files is not None}
    found = []
    for entry in entries:
        found += sorted(_loose_under(entry, own_folders), key=lambda loose: loose.path)
    return found


def _loose_under(entry: Kept, own_folders: set[str]) -> Iterator[Loose]:
    try:
        here = os.stat(entry.path)  # a path set in the configuration may be a link
    except OSError:
        return
    if here.st_mode & 0o777 & ~entry.mode:
        yield Loose(entry, str(entry.path), stat.S_IMODE(here.st_mode), entry.mode,
                    stat.S_ISDIR(here.st_mode))
    if entry.files is not None and stat.S_ISDIR(here.st_mode):
        yield from _walk(entry, str(entry.path), own_folders)


def _walk(entry: Kept, folder: str, own_folders: set[str]) -> Iterator[Loose]:
    """The loose files and folders beneath `folder`; links are not followed, nor their modes
    looked at (a link's own mode means nothing), and what is neither a file nor a folder (a
    pipe, a device) is never opened. Paths stay strings until one is loose: a store holds
    millions of files."""
    try:
        with os.scandir(folder) as children:
            found = [(child.path, child.stat(follow_symlinks=False).st_mode)
                     for child in children
                     if not child.is_symlink() and child.path not in own_folders]
    except OSError:
        return
    files = entry.files
    for path, mode in found:
        is_folder = stat.S_ISDIR(mode)
        if not is_folder and not stat.S_ISREG(mode):
            continue
        allowed = FOLDER if is_folder else files
        if mode & 0o777 & ~allowed:
            yield Loose(entry, path, stat.S_IMODE(mode), allowed, is_folder)
        if is_folder:
            yield from _walk(entry, path, own_folders)


def too_much(bits: int, folder: bool) -> str:
    """What the permission bits beyond those allowed let others do, in words."""
    thing = "enter" if folder else "run"
    parts = []
    for who, shift in CLASSES:
        verbs = [verb for bit, verb in ((4, "read"), (2, "write"), (1, thing))
                 if bits >> shift & bit]
        if verbs:
            parts.append(f"{who} may {' and '.join(verbs)} it")
    return "; ".join(parts)


def mode_warnings(app: Flask) -> list[str]:
    """One line per loose path, naming it, its mode and the mode expected; past NAMED_AT_MOST
    paths of one kept folder, one line counting the rest."""
    lines, named = [], {}
    for loose in loose_paths(app):
        count = named[loose.kept] = named.get(loose.kept, 0) + 1
        if count <= NAMED_AT_MOST:
            lines.append(loose.describe())
    for kept, count in named.items():
        if count > NAMED_AT_MOST:
            lines.append(f"{count - NAMED_AT_MOST} more paths under {kept.path} are looser than "
                         f"expected (folders {FOLDER:04o}, files {kept.files:04o})")
    return lines


def _chmod(loose: Loose, *, configured: bool) -> None:
    """Change the mode of a path found loose; beneath a kept folder, through a descriptor
    opened without following a link (one put in its place meanwhile is refused)."""
    if configured:
        os.chmod(loose.path, loose.tightened)
        return
    fd = os.open(loose.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        os.fchmod(fd, loose.tightened)
    finally:
        os.close(fd)


def tighten(app: Flask) -> list[str]:
    """Take from every kept path the permissions it may not have (a stricter mode stays); the
    lines saying what was changed, or could not be."""
    lines, changed = [], {}
    for loose in loose_paths(app):
        try:
            _chmod(loose, configured=loose.path == str(loose.kept.path))
        except OSError as exc:
            lines.append(f"Could not tighten {loose.path} ({exc.strerror}): change its mode to "
                         f"{loose.allowed:04o} as its owner.")
            continue
        changed.setdefault(loose.kept, []).append(loose)
    for kept, done in changed.items():
        if len(done) > 3:
            lines.append(f"Tightened {len(done)} paths under {kept.path} to the service alone "
                         f"(folders {FOLDER:04o}, files {kept.files:04o}).")
            continue
        lines += [f"Tightened {loose.path} to the service alone: mode {loose.mode & 0o777:04o} "
                  f"-> {loose.tightened & 0o777:04o}." for loose in done]
    return lines
