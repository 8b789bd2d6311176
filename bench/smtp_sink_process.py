"""tests/smtp_sink.py's SMTP sink in a process of its own (so that the bench's own work
does not slow it down): prints its port, runs until stdin closes, then writes what it
received as JSON to the file named by its argument."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.smtp_sink import SmtpSink

with SmtpSink() as smtp:
    print(smtp.port, flush=True)
    sys.stdin.read()
    Path(sys.argv[1]).write_text(
        json.dumps(
            {
                "sessions": smtp.sessions,
                "messages": [[m["message_id"], list(m["session"])] for m in smtp.messages],
            }
        )
    )
