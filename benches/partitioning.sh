#!/usr/bin/env bash
# Partitioning `daily_scores` by month, measured: on a PostgreSQL database seeded by
# `securescore-bench reads` (tenants `tenant-NNNNN`, a year of days), copies the days twice into
# schema `partitioning_bench` — once as a plain table, once partitioned by range of `date`
# (one partition a month), each with the indexes the server's table has — and runs the reads
# the server sends for a tenant's days and the per-date aggregate of a close with pgbench
# against both, alternated round by round, then times writing a day of every tenant into each.
# It prints pgbench's figures, medians over the rounds and partitioned / plain ratios; it asserts
# nothing. The schema is dropped at the end.
#
#   bash benches/partitioning.sh 'postgres://postgres@127.0.0.1:5432/securescore_reads' [ROUNDS] [SECONDS]
set -euo pipefail

URL=${1:?a PostgreSQL URL of a database seeded by securescore-bench reads}
ROUNDS=${2:-3}
SECONDS_PER_RUN=${3:-5}
SCHEMA=partitioning_bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql "$URL" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true' EXIT

sql() { psql "$URL" -v ON_ERROR_STOP=1 -qAt "$@"; }

TENANTS=$(sql -c "SELECT count(*) FROM tenants")
read -r FIRST LAST DAYS < <(sql -F ' ' -c "SELECT min(date), max(date), count(*) FROM daily_scores")
echo "partitioning: $DAYS day rows of $TENANTS tenants from $FIRST to $LAST; $ROUNDS rounds of $SECONDS_PER_RUN s per measurement"

sql <<SQL
DROP SCHEMA IF EXISTS $SCHEMA CASCADE;
CREATE SCHEMA $SCHEMA;
CREATE TABLE $SCHEMA.plain (LIKE public.daily_scores INCLUDING DEFAULTS);
CREATE TABLE $SCHEMA.partitioned (LIKE public.daily_scores INCLUDING DEFAULTS) PARTITION BY RANGE (date);
DO \$\$
DECLARE month date := date_trunc('month', '$FIRST'::date);
BEGIN
  WHILE month <= ('$LAST'::date + 31) LOOP
    EXECUTE format('CREATE TABLE $SCHEMA.%I PARTITION OF $SCHEMA.partitioned FOR VALUES FROM (%L) TO (%L)',
      'partitioned_' || to_char(month, 'YYYY_MM'), month, (month + interval '1 month')::date);
    month := (month + interval '1 month')::date;
  END LOOP;
END \$\$;
INSERT INTO $SCHEMA.plain SELECT * FROM public.daily_scores;
INSERT INTO $SCHEMA.partitioned SELECT * FROM public.daily_scores;
-- The server's indexes; a partitioned table's unique key must contain the partition key, as
-- (tenant_id, date) does, and the surrogate id becomes part of the primary key.
ALTER TABLE $SCHEMA.plain ADD PRIMARY KEY (id);
ALTER TABLE $SCHEMA.partitioned ADD PRIMARY KEY (id, date);
CREATE UNIQUE INDEX ON $SCHEMA.plain (tenant_id, date);
CREATE UNIQUE INDEX ON $SCHEMA.partitioned (tenant_id, date);
CREATE INDEX ON $SCHEMA.plain (date);
CREATE INDEX ON $SCHEMA.partitioned (date);
VACUUM ANALYZE $SCHEMA.plain;
VACUUM ANALYZE $SCHEMA.partitioned;
SQL
PARTITIONS=$(sql -c "SELECT count(*) FROM pg_inherits WHERE inhparent = '$SCHEMA.partitioned'::regclass")
size() { sql -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.oid = '$SCHEMA.$1'::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = '$SCHEMA.$1'::regclass)"; }
echo "copies: plain $(size plain), partitioned into $PARTITIONS monthly partitions $(size partitioned) (tables and indexes)"

# One pgbench script per read and table, each on a random tenant, sent prepared as the server
# sends its statements.
for table in plain partitioned; do
cat > "$WORK/trends.$table.sql" <<EOF
\\set n random(0, $((TENANTS - 1)))
SELECT date, percentage, action_set_id FROM $SCHEMA.$table
 WHERE tenant_id = 'tenant-' || lpad(:n::text, 5, '0') AND date <= '$LAST'
   AND (date >= '$LAST'::date - 364 OR date IN (SELECT max(date) FROM $SCHEMA.$table
        WHERE tenant_id = 'tenant-' || lpad(:n::text, 5, '0') AND date < '$LAST'::date - 364))
 ORDER BY date;
EOF
cat > "$WORK/history.$table.sql" <<EOF
\\set n random(0, $((TENANTS - 1)))
SELECT * FROM $SCHEMA.$table
 WHERE tenant_id = 'tenant-' || lpad(:n::text, 5, '0') AND date BETWEEN '$LAST'::date - 89 AND '$LAST'
 ORDER BY date;
EOF
cat > "$WORK/newest.$table.sql" <<EOF
\\set n random(0, $((TENANTS - 1)))
SELECT * FROM $SCHEMA.$table WHERE tenant_id = 'tenant-' || lpad(:n::text, 5, '0') AND date = '$LAST';
EOF
cat > "$WORK/date_aggregate.$table.sql" <<EOF
\\set back random(0, 30)
SELECT count(*), avg(percentage), avg(score) FROM $SCHEMA.$table WHERE date = '$LAST'::date - :back::int;
EOF
done

median() { sort -g | awk '{v[NR]=$1} END {m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf (m >= 100 ? "%.0f" : "%.3g"), m}'; }
range() { sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf (lo >= 100 ? "%.0f-%.0f" : "%.3g-%.3g"), lo, hi}'; }

printf '%-16s %7s %-12s %26s %26s\n' query clients table "tps median [range]" "latency ms median [range]"
for query in trends history newest date_aggregate; do
  for clients in 1 16; do
    declare -A tps=() lat=()
    for round in $(seq 1 "$ROUNDS"); do
      # The table measured first moves on each round.
      if (( round % 2 )); then order="plain partitioned"; else order="partitioned plain"; fi
      for table in $order; do
        out=$(pgbench -n -M prepared -f "$WORK/$query.$table.sql" -c "$clients" -j "$((clients < 2 ? 1 : 2))" \
          -T "$SECONDS_PER_RUN" "$URL" 2>&1)
        tps[$table]+="$(grep -oP 'tps = \K[0-9.]+' <<<"$out" | head -1) "
        lat[$table]+="$(grep -oP 'latency average = \K[0-9.]+' <<<"$out") "
      done
    done
    for table in plain partitioned; do
      t=$(tr ' ' '\n' <<<"${tps[$table]}" | grep . )
      l=$(tr ' ' '\n' <<<"${lat[$table]}" | grep . )
      printf '%-16s %7s %-12s %26s %26s\n' "$query" "$clients" "$table" \
        "$(median <<<"$t") [$(range <<<"$t")]" "$(median <<<"$l") [$(range <<<"$l")]"
    done
    ratio=$(awk -v p="$(tr ' ' '\n' <<<"${tps[partitioned]}" | grep . | median)" \
      -v f="$(tr ' ' '\n' <<<"${tps[plain]}" | grep . | median)" 'BEGIN {printf "%.2f", p / f}')
    echo "$query at $clients client(s): partitioned / plain, tps of the medians $ratio"
    unset tps lat
  done
done

# A close writes one new day for every tenant: the newest day copied to the day after, in one
# transaction rolled back, alternated between the two tables.
echo "writing a day of $TENANTS tenants (INSERT ... SELECT of the newest day, rolled back), ms:"
declare -A writes=()
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then order="plain partitioned"; else order="partitioned plain"; fi
  for table in $order; do
    ms=$(psql "$URL" -qAt -v ON_ERROR_STOP=1 <<SQL | grep -oP 'Time: \K[0-9.]+' | head -1
BEGIN;
\\timing on
INSERT INTO $SCHEMA.$table SELECT id + 100000000, tenant_id, date + 1, score, max_score, percentage,
  planned_score, categories, snapshot_id, computed_at, final, no_data_max_score, coverage, version,
  stale_actions, input_seq, license_gaps, action_set_id FROM $SCHEMA.$table WHERE date = '$LAST';
\\timing off
ROLLBACK;
SQL
)
    writes[$table]+="$ms "
  done
done
for table in plain partitioned; do
  w=$(tr ' ' '\n' <<<"${writes[$table]}" | grep .)
  printf '  %-12s median %s [%s]\n' "$table" "$(median <<<"$w")" "$(range <<<"$w")"
done
