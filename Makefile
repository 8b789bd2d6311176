# The two commands: `make run` (fresh machine to a running portal) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Where `make run` serves (e.g. make run HOST=0.0.0.0 PORT=8080).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install mailservers browser caddy lint messages lock clean

$(VENV)/.installed: pyproject.toml setup.py checks/evidence/_fastread.pyx
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# A local .env with DEBUG on and a random secret, made once; production sets its own environment.
.env:
	printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(40))')" > $@

# Mailed links must reach the server `make run` starts: PORTAL_URL from the environment or
# .env wins, else it is http://HOST:PORT.
run: export PORTAL_URL := $(or $(PORTAL_URL),$(shell sed -n 's/^PORTAL_URL=//p' .env 2>/dev/null | tr -d "\"'" | tail -n 1),http://$(HOST):$(PORT))
# The demo's mail servers answer for the demo's server names on loopback (README: "The
# demo's servers"); the probe settings that point at them are added to .env once.
run: install .env
	@grep -q "^# The demo's mail servers" .env || $(PY) manage.py demo_mailservers --print-env >> .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@rm -f var/demo-mail/ready; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py demo_mailservers & pids="$$!"; \
	for _ in $$(seq 100); do test -f var/demo-mail/ready && break; sleep 0.1; done; \
	$(VENV)/bin/celery -A portal worker --loglevel=INFO --concurrency=2 & pids="$$pids $$!"; \
	$(VENV)/bin/celery -A portal beat --loglevel=INFO & pids="$$pids $$!"; \
	echo; echo "  Mail Settings Portal: http://$(HOST):$(PORT)/  (staff: /staff/, admin: /admin/)"; \
	echo "  Links in mail: $(PORTAL_URL)/"; \
	echo "  Staff two-factor code: $(PY) manage.py demo_code"; echo; \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# Real Dovecot and Postfix for the probe tests (Debian packages; needs root, never
# starts the system-wide services). Without root the tests that need them skip, saying why.
mailservers:
	@if [ "$$(id -u)" = 0 ]; then bash tests/checks/install-mailservers.sh; \
	else echo "not root: the tests with real mail servers will skip unless dovecot and postfix are installed"; fi

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser)
# and dnsmasq (the binary only, no service) for the DNS check tests.
browser:
	@if { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/dnsmasq ]; } && [ "$$(id -u)" = 0 ]; then \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk dnsmasq-base >/dev/null 2>&1 || \
		 (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk dnsmasq-base)); fi

# Debian's Caddy for the production stack test (tests/deploy/), never started as a service.
caddy:
	@bash tests/deploy/install-caddy.sh

test: install mailservers browser caddy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	SECRET_KEY=test-only-not-secret $(PY) manage.py check
	SECRET_KEY=test-only-not-secret $(PY) manage.py makemigrations --check --dry-run
	SECRET_KEY=test-only-not-secret CONN_MAX_AGE=0 $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs GNU gettext; the compiled .mo files are committed so `make run` does not.
messages: install
	$(PY) manage.py makemessages -l ja --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

# The production install's exact versions and hashes (deploy: pip install --require-hashes
# -r requirements.lock, then pip install --no-deps .). Run after changing dependencies.
lock: install
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements.lock pyproject.toml

clean:
	rm -rf var/broker var/test.sqlite3* .pytest_cache
