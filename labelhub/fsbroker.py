"""The embedded default's job queue: kombu's filesystem transport, with atomic writes.

kombu's ``filesystem`` transport creates a message file and then writes into it, while a
worker lists the folder, moves any matching file away and parses it: a worker that comes
between the two reads an empty or half-written file, and its ``JSONDecodeError`` stops the
worker (seen under load, once in three compat runs). Here a message is written to a hidden
file that no queue matches (``.<name>.tmp``) and renamed into place, which is atomic on
one file system: a worker sees a whole message or none.

Celery's loop for a polling transport drains for two seconds at a time and looks for a
stop request only between drains, so a SIGTERM waited up to two seconds before the worker
began to stop. Here a drain gives way every ``STOP_CHECK`` seconds to look for one (the
clean stop of ``labelhub start``, bench/footprint.py); without one it drains as long as
it was asked to.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.tmp")
        try:
            with open(partial, "wb") as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    STOP_CHECK = 0.2  # seconds

    def drain_events(self, connection, timeout=None):
        from celery.worker import state

        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = self.STOP_CHECK if deadline is None else deadline - monotonic()
            try:
                return super().drain_events(connection, timeout=min(left, self.STOP_CHECK))
            except TimeoutError:
                stopping = state.should_stop is not None or state.should_terminate is not None
                if stopping or (deadline is not None and monotonic() >= deadline):
                    raise
