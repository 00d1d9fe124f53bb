#!/usr/bin/env bash
# Deploy the pending migrations of this crate to the database at DATABASE_URL.
#
#   DATABASE_URL=postgres://app@db.internal/blog bash migrations-example/deploy.sh
#
# 1. check   migrations.sum matches the migrations in the code (a bad merge stops here)
# 2. lint    no unsafe operation for this database's backend (exit code 5 otherwise)
# 3. plan    what is pending: SQL, locks, findings, reversibility (printed for the deploy log)
# 4. backup  pg_dump (PostgreSQL), mysqldump (MySQL/MariaDB), .backup or a copy (SQLite)
# 5. up      under the migration lock, waiting for another deploy at most DEPLOY_LOCK_TIMEOUT s
# 6. verify  nothing left pending (`status --check`), no drift (`schema --live`)
#
# Nothing pending: steps 4 and 5 are skipped, and the script still succeeds.
#
# Environment:
#   DATABASE_URL          required: postgres://, mysql://, mariadb:// or sqlite:
#   MIGRATE               the command that runs the migrations binary, split on spaces
#                         (default: `cargo xtask migrate`; in a deploy, the binary built for the
#                         release: MIGRATE=./target/release/migrations-example)
#   BACKUP_DIR            where the backup is written (default: ./backups)
#   DEPLOY_LOCK_TIMEOUT   seconds to wait for another deploy's migration lock (default: 300)
#   PG_DUMP, MYSQLDUMP    the dump programs (default: pg_dump, mysqldump); PostgreSQL's
#                         pg_dump must be at least as new as the server
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the database to migrate}"
export DATABASE_URL
read -r -a migrate <<<"${MIGRATE:-cargo xtask migrate}"
backup_dir=${BACKUP_DIR:-./backups}
lock_timeout=${DEPLOY_LOCK_TIMEOUT:-300}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

step() { printf '\n==> %s\n' "$*" >&2; }

step "check: migrations.sum matches the code"
"${migrate[@]}" check --file "$here/migrations.sum"

step "lint: the zero-downtime rules of this database's backend"
"${migrate[@]}" lint

pending=0
"${migrate[@]}" status --check >/dev/null 2>&1 || pending=$?
case $pending in
0)
    step "nothing to migrate: every migration is applied"
    "${migrate[@]}" status
    exit 0
    ;;
3) ;; # something is pending (or half-applied, changed, missing: `up` says what to do)
*)
    echo "error: cannot read the migration status of the database (exit code $pending):" >&2
    "${migrate[@]}" status --check
    exit "$pending"
    ;;
esac

step "plan: what \`up\` will run"
"${migrate[@]}" plan

# The newest migration applied before this deploy, for the rollback hint below.
before=$("${migrate[@]}" status | awk '$3 == "applied" { v = $1 } END { print v }')

step "backup"
mkdir -p "$backup_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
case $DATABASE_URL in
postgres://* | postgresql://*)
    backup="$backup_dir/$stamp.dump"
    "${PG_DUMP:-pg_dump}" --format=custom --file="$backup" "$DATABASE_URL"
    restore="pg_restore --clean --if-exists --dbname=\"\$DATABASE_URL\" $backup"
    ;;
mysql://* | mariadb://*)
    re='^[a-z]+://([^:@/]+)(:([^@]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)'
    if [[ ! $DATABASE_URL =~ $re ]]; then
        echo "error: cannot read user, host and database from DATABASE_URL for mysqldump" >&2
        exit 1
    fi
    user=${BASH_REMATCH[1]} password=${BASH_REMATCH[3]} host=${BASH_REMATCH[4]}
    port=${BASH_REMATCH[6]:-3306} database=${BASH_REMATCH[7]}
    backup="$backup_dir/$stamp.sql"
    MYSQL_PWD=$password "${MYSQLDUMP:-mysqldump}" --single-transaction --routines --triggers \
        --host="$host" --port="$port" --user="$user" "$database" >"$backup"
    restore="mysql --host=$host --port=$port --user=$user $database < $backup"
    ;;
sqlite:*)
    path=${DATABASE_URL#sqlite:}
    path=${path#//}
    path=${path%%\?*}
    backup="$backup_dir/$stamp.db"
    if [[ ! -f $path ]]; then
        echo "no database file at $path yet: nothing to back up" >&2
        backup="" restore=""
    elif command -v sqlite3 >/dev/null; then
        sqlite3 "$path" ".backup '$backup'" # consistent, even while the application writes
    else
        cp "$path" "$backup"
    fi
    if [[ -n $backup ]]; then restore="cp $backup $path (with the application stopped)"; fi
    ;;
*)
    echo "error: DATABASE_URL must start with postgres://, mysql://, mariadb:// or sqlite:" >&2
    exit 2
    ;;
esac
if [[ -n $backup ]]; then echo "backed up to $backup" >&2; fi

rollback_hint() {
    {
        echo
        echo "The deploy failed. A migration that failed on PostgreSQL or SQLite was rolled back whole;"
        echo "on MySQL/MariaDB, \`${migrate[*]} status\` shows where it stopped and \`up\` says how to resolve it."
        if [[ -n $before ]]; then
            echo "To return to the schema before this deploy: ${migrate[*]} down --to $before"
        else
            echo "To return to the empty schema before this deploy: ${migrate[*]} down --all"
        fi
        echo "  (it refuses, and runs nothing, if a migration of this deploy is irreversible)"
        if [[ -n $restore ]]; then echo "To restore the data as it was: $restore"; fi
    } >&2
}
trap rollback_hint ERR

step "up: under the migration lock"
"${migrate[@]}" up --deploy-lock-timeout "$lock_timeout"

step "verify: nothing pending, no drift"
"${migrate[@]}" status --check
"${migrate[@]}" schema --live

trap - ERR
step "deployed"
