"""Serve a sandbox WSGI app on a localhost port, in a background thread.

Plain HTTP goes through waitress (thousands of requests/second, so that benchmarks measure
the sync and not the sandbox); HTTPS through werkzeug's server, which only the identity
endpoint needs (token requests are few).
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass, field

import waitress.server
from werkzeug.serving import WSGIRequestHandler, make_server

from .tls import Certificate

logger = logging.getLogger(__name__)


@dataclass
class ServerHandle:
    url: str
    port: int
    _stop: callable
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._stop()
        self._thread.join(timeout=10)


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:  # the sandbox keeps its own request log
        pass


def serve(
    app,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: Certificate | None = None,
    threads: int = 16,
    name: str = "sandbox",
) -> ServerHandle:
    """Start serving app; port 0 picks a free port. Returns once the socket listens."""
    if tls is None:
        server = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident=name,
            # Sandboxes answer instantly; a large backlog keeps bursts from benchmarks queued.
            backlog=2048,
            connection_limit=1000,
            channel_timeout=120,
            clear_untrusted_proxy_headers=True,
        )
        actual_port = server.effective_port
        thread = threading.Thread(target=server.run, name=f"{name}-http", daemon=True)

        def close_all() -> None:
            # Runs in waitress' own loop thread (through its trigger), so no socket is closed
            # under a poll in progress: the listener, every kept-alive client channel and the
            # trigger itself. An empty socket map ends the loop.
            for channel in list(server._map.values()):
                channel.close()

        def stop() -> None:
            try:
                server.trigger.pull_trigger(close_all)
            except OSError:
                # The loop has already ended and closed its trigger (seen in CI as EBADF when
                # a test's last channel closed the map first): nothing is left to close.
                logger.debug("%s: waitress loop already stopped", name)
            thread.join(timeout=5)
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=2)

        scheme = "http"
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.certfile, tls.keyfile)
        server = make_server(
            host, port, app, threaded=True, ssl_context=context, request_handler=_QuietHandler
        )
        server.daemon_threads = True
        actual_port = server.server_port
        # A short poll: shutdown() waits up to one poll interval, and tests stop a server each.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{name}-https",
            daemon=True,
        )

        def stop() -> None:
            server.shutdown()
            server.server_close()

        scheme = "https"
    thread.start()
    display_host = "localhost" if scheme == "https" else host
    return ServerHandle(
        url=f"{scheme}://{display_host}:{actual_port}", port=actual_port, _stop=stop, _thread=thread
    )


# waitress logs every dropped connection we inject on purpose; that is noise, not an error.
logging.getLogger("waitress").setLevel(logging.ERROR)
