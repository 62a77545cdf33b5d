"""python-telegram-bot's networking backend on aiohttp instead of httpx.

PTB talks to the Bot API through a `BaseRequest` and documents subclassing it as the way to use another HTTP
library. We do, for cost: in the relay benchmark the default httpx backend (httpx, httpcore, h11, anyio) was
25-28 % of the bridge's CPU at 200 messages/s, more than our own routing code. aiohttp is already in the
stack, and its parser is written in C.

Semantics follow PTB's HTTPXRequest: parameters go as form fields (JSON-encoded values, as PTB encodes them),
files as multipart; a timeout raises `TimedOut`, any other transport failure `NetworkError`. PTB itself turns
the status code and body into its API errors.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp session with up to `pool_size` connections to the Bot API."""

    __slots__ = ("_connect_timeout", "_pool_size", "_read_timeout", "_session", "_write_timeout")

    def __init__(
        self, pool_size: int = 1, *, connect_timeout: float = 5.0, read_timeout: float = 5.0, write_timeout: float = 5.0
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read_timeout)
        write = _seconds(write_timeout, self._write_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, connect)
        body = _body(request_data)
        # aiohttp has no write timeout: an upload (multipart) is bounded as a whole by write + read instead.
        whole = write + read if isinstance(body, aiohttp.FormData) and write is not None and read is not None else None
        timeout = aiohttp.ClientTimeout(
            total=whole,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp raises asyncio.TimeoutError, the same class since 3.11
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc


def _seconds(value: object, default: float | None) -> float | None:
    """A timeout argument as PTB passes it: its DEFAULT_NONE sentinel (use ours), None (no limit), or seconds."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    if value is None or isinstance(value, int | float):
        return value
    raise TypeError(f"timeout must be seconds or None, not {type(value).__name__}")


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form
