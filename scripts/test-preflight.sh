#!/usr/bin/env bash
# Run by `npm test` (pretest) before anything else: makes this machine ready for the tests, or
# says exactly what is missing. The tests use real peers: xmlsec1 and xmllint (interop), Debian's
# chromium (the console's browser tests), docker-compose (to render the compose file), and
# RabbitMQ with its management plugin (queue stats).
# On a Debian machine as root it installs and enables what is missing; elsewhere it prints the
# command to run and stops with exit 2 (an environment error, as the CLI's exit statuses say).
# Since the PostgreSQL ledger and the replicas' shared state: PostgreSQL (the ledger contract and
# the replica tests; its binaries for a throwaway server of a test's own) and Redis (the replicas'
# shared rate limits; redis-server for a throwaway one).
set -euo pipefail

say() { echo "preflight: $*"; }
die() { echo "preflight: $*" >&2; exit 2; }
as_root() { [ "$(id -u)" = 0 ]; }

# 1. Reference peers (Debian package names).
missing=()
command -v xmlsec1 >/dev/null || missing+=(xmlsec1)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
[ -x "${LGSP_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
# docker-compose renders docker-compose.yml in a test (no Docker engine is needed for that).
command -v docker-compose >/dev/null || missing+=(docker-compose)
# A test's own PostgreSQL (initdb, pg_ctl: tests/helpers/private-postgres.ts) and Redis server.
pg_bin() { if [ -n "${LGSP_TEST_PG_BIN:-}" ]; then echo "$LGSP_TEST_PG_BIN"; else ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; fi; }
[ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if as_root && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing ${missing[*]}: install them (sudo apt-get install ${missing[*]}) and run npm test again"
  fi
fi

# 2. RabbitMQ. With AMQP_URL set the broker is someone else's: only probe it.
amqp_url="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
amqp_ok() {
  timeout 20 node -e "require('amqplib').connect(process.argv[1]).then((c) => c.close())
    .then(() => process.exit(0), () => process.exit(1))" "$amqp_url"
}
local_broker() { [ -z "${AMQP_URL:-}" ] && command -v rabbitmqctl >/dev/null; }
if local_broker; then
  if ! rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; then
    as_root || die "RabbitMQ is not running: start it (sudo rabbitmq-server -detached) and run npm test again"
    say "starting RabbitMQ"
    rabbitmq-server -detached
    rabbitmqctl -q await_startup --timeout 120
  fi
fi
# rabbitmqctl can report the node started while AMQP connections hang (seen here after heavy
# quorum-queue churn): probe AMQP itself, and restart the local broker once if it does not answer.
if ! amqp_ok; then
  local_broker && as_root || die "no AMQP broker answers at $amqp_url: start one or set AMQP_URL"
  say "RabbitMQ does not answer AMQP; restarting it"
  timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || pkill -9 -f beam.smp || true
  sleep 2
  rabbitmq-server -detached
  rabbitmqctl -q await_startup --timeout 120
  amqp_ok || die "RabbitMQ still does not answer AMQP at $amqp_url"
fi

# 3. The management plugin: queue stats with unacked counts and rates (GET /api/admin/queues).
management="${RABBITMQ_MANAGEMENT_URL:-http://guest:guest@127.0.0.1:15672}"
management_ok() {
  node -e "const u = new URL(process.argv[1]);
    fetch(u.origin + '/api/overview', { headers: { authorization: 'Basic ' + Buffer.from(decodeURIComponent(u.username) + ':' + decodeURIComponent(u.password)).toString('base64') } })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$management"
}
if ! management_ok; then
  local_broker || die "RabbitMQ's management API does not answer at ${management%%@*}@…: enable the rabbitmq_management plugin on that broker or set RABBITMQ_MANAGEMENT_URL"
  say "enabling RabbitMQ's management plugin"
  rabbitmq-plugins -q enable rabbitmq_management >/dev/null \
    || die "cannot enable rabbitmq_management (try: sudo rabbitmq-plugins enable rabbitmq_management)"
  for _ in $(seq 60); do management_ok && break; sleep 1; done
  management_ok || die "the management plugin is enabled but its API does not answer within 60 s"
fi

# 4. PostgreSQL, user postgres without a password on 127.0.0.1 (LGSP_TEST_POSTGRES_URL: someone
#    else's server, only probed). A fresh local install gets its cluster started and trust for
#    that one user on loopback, which is what the tests' URL needs.
postgres_url="${LGSP_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
postgres_ok() {
  timeout 20 node -e "const c = new (require('pg').Client)({ connectionString: process.argv[1], connectionTimeoutMillis: 5000 });
    c.connect().then(() => c.query('SELECT 1')).then(() => c.end()).then(() => process.exit(0), () => process.exit(1))" "$postgres_url"
}
local_postgres() { [ -z "${LGSP_TEST_POSTGRES_URL:-}" ] && as_root && command -v pg_lsclusters >/dev/null; }
if ! postgres_ok; then
  local_postgres || die "no PostgreSQL answers at $postgres_url (user postgres, no password): start one or set LGSP_TEST_POSTGRES_URL"
  cluster=$(pg_lsclusters -h | awk '$3 == 5432 { print $1 " " $2; exit }')
  if [ -z "$cluster" ]; then
    version=$(basename "$(dirname "$(pg_bin)")")
    say "creating PostgreSQL cluster $version/main on port 5432"
    pg_createcluster -p 5432 "$version" main >/dev/null
    cluster="$version main"
  fi
  say "starting PostgreSQL $cluster"
  # shellcheck disable=SC2086 # "version name", two words
  pg_ctlcluster $cluster start 2>/dev/null || true
  if ! postgres_ok; then
    hba="/etc/postgresql/${cluster% *}/${cluster#* }/pg_hba.conf"
    say "trusting user postgres on 127.0.0.1 in $hba"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster reload
  fi
  postgres_ok || die "PostgreSQL $cluster still does not answer at $postgres_url"
fi

# 5. Redis (LGSP_TEST_REDIS_URL: someone else's, only probed).
redis_url="${LGSP_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
redis_ok() {
  timeout 10 node -e "const u = new URL(process.argv[1]); const s = require('net').connect(Number(u.port || 6379), u.hostname);
    s.setTimeout(5000, () => process.exit(1)); s.on('error', () => process.exit(1));
    s.on('connect', () => s.write('PING\r\n')); s.on('data', (d) => process.exit(String(d).startsWith('+PONG') ? 0 : 1))" "$redis_url"
}
if ! redis_ok; then
  [ -z "${LGSP_TEST_REDIS_URL:-}" ] && as_root || die "no Redis answers at $redis_url: start one (redis-server --daemonize yes) or set LGSP_TEST_REDIS_URL"
  say "starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >/dev/null
  for _ in $(seq 20); do redis_ok && break; sleep 0.5; done
  redis_ok || die "Redis does not answer at $redis_url after starting it"
fi
say "ready (xmlsec1, xmllint, chromium, docker-compose, RabbitMQ with management, PostgreSQL, Redis)"
