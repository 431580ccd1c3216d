# Sourced by the benchmark scripts that run on PostgreSQL, once POSTGRES_URL and POSTGRES_ADMIN_URL are set
# (scripts/postgres.sh start).
# new_database: creates a new empty database owned by the test role and prints its URL. (Called in $(…), a
# subshell: the name cannot come from a counter kept by the caller, so it is random; a failure prints nothing and
# the run that needs it fails.)
new_database() {
    local name="bench_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    psql -X -q -v ON_ERROR_STOP=1 "$POSTGRES_ADMIN_URL" -c "CREATE DATABASE $name OWNER stripe_apps" >&2 || return 1
    echo "${POSTGRES_URL/\/stripe_apps\?//$name?}"
}
