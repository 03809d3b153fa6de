"""Where uploaded files' bytes live, behind one small interface.

`save` takes an async byte stream and returns a key the storage made up
itself (never a name or a path from the user); `open` streams the bytes of a
key back; `delete` removes them. The local folder is the default backend.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncGenerator
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

CHUNK_SIZE = 64 * 1024
# "ab/cd/abcd…" : 32 random hex digits, fanned out over two folder levels
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")


@runtime_checkable
class AsyncReader(Protocol):
    """Anything with `await read(n)`: an uploaded file, a wrapped stream."""

    async def read(self, size: int = -1, /) -> bytes: ...


class StorageKeyError(KeyError):
    """No stored file under this key (or the key is malformed)."""


class Storage(Protocol):
    async def save(self, stream: AsyncReader) -> str:
        """Store the stream's bytes to its end; return the new key.

        If reading the stream raises, nothing is left behind and the error propagates.
        """
        ...

    def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        """The stored bytes, chunk by chunk; StorageKeyError if there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the bytes of `key`; a missing key is not an error."""
        ...


def new_key() -> str:
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token[2:4]}/{token}"


class LocalStorage:
    """Files in a local folder: `<root>/ab/cd/<key>`, written to a temporary name first."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise StorageKeyError(key)
        return self.root / key

    async def save(self, stream: AsyncReader) -> str:
        key = new_key()
        path = self.path_of(key)
        partial = path.with_name(path.name + ".part")
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(partial.open, "xb")
        try:
            try:
                while chunk := await stream.read(CHUNK_SIZE):
                    await asyncio.to_thread(handle.write, chunk)
            finally:
                await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, partial, path)
        except BaseException:
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            raise
        return key

    async def open(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes, None]:
        path = self.path_of(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise StorageKeyError(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                yield chunk
        finally:
            # not awaited: when the client goes away, the response's cancelled task scope
            # cancels every await again, and the file would be left open
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()


@lru_cache(maxsize=8)
def local_storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


def storage_for(upload_dir: Path) -> Storage:
    """The storage configured for this process (the local folder `upload_dir`)."""
    return local_storage(upload_dir)
