"""The development mail outbox of the embedded default (`make run`).

`backend.OutboxFileBackend` writes each email to EMAIL_FILE_PATH (var/mail/) as one .eml file and
logs one line linking to it; `views` lists and shows them at /dev/mail/, only under DEBUG, only to
this machine and only while this backend is the one sending. The HTML part is shown in a sandboxed
frame under a policy of its own (no script, no outside resource), so a traveller's emails can be
read as rendered without loosening the site's Content-Security-Policy (apps/core/middleware.py).
"""
