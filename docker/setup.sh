#!/bin/sh
# The compose site's first step (docker-compose.yml, service "setup"), run on every start and
# idempotent: a secret key the first time, then migrations, the beat schedule, the demo catalogue
# and the demo users, and how to sign in.
set -eu

if [ ! -s "$DJANGO_SECRET_KEY_FILE" ]; then
  (umask 077 && python -c 'import secrets, sys; sys.stdout.write(secrets.token_urlsafe(50))' >"$DJANGO_SECRET_KEY_FILE")
  echo "Generated the site's secret key in $DJANGO_SECRET_KEY_FILE (volume app-secrets)."
fi
python manage.py migrate --noinput
python manage.py setup_beat
python manage.py load_demo_data
echo "Demo users (sign in on the site; the staff user also at ${SITE_URL}/admin/):"
python manage.py create_demo_users
echo "Airline starts at ${SITE_URL}/ once the web service is healthy; its mail is at ${MAILPIT_URL}/."
