"""The image's HEALTHCHECK: the server answers GET /healthz with 200 (standard library only: no Django
start-up every 30 seconds).

The request names the first of DJANGO_ALLOWED_HOSTS as its Host (the site refuses any other) and says
it came over HTTPS the way the TLS proxy in front would (X-Forwarded-Proto, trusted by production
settings), so the HTTPS redirect does not answer in the health check's place.
"""

import http.client
import os
import sys


def healthcheck_host(allowed_hosts: str) -> str:
    for host in (entry.strip() for entry in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")  # ".airline.example" allows airline.example itself
    return "localhost"


def main() -> int:
    port = int(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    host = healthcheck_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        status = connection.getresponse().status
    except OSError as error:
        sys.stderr.write(f"/healthz on port {port} did not answer: {error}\n")
        return 1
    finally:
        connection.close()
    if status != 200:
        sys.stderr.write(f"/healthz on port {port} answered {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
