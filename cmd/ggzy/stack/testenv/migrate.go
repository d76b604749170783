package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	osexec "os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack"
	"github.com/ggzy/ggzy/migrations"
)

// EmptyDatabaseURL creates a database for this test with no migration
// applied (DatabaseURL's are cloned from a migrated template); it is
// dropped when the test ends.
func EmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	p, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	if err := exec(context.Background(), p.URL("postgres"), "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(context.Background(), p.URL("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return p.URL(name)
}

// MigrationsRoundTrip takes the fully migrated database at url down to
// version 0 and up again, with whatever data the test put in it, and fails
// the test unless:
//   - every migration's Down works, and so does its Up over the data the
//     earlier migrations keep (each is taken down, up and down again on the
//     way to 0, as an upgrade of a live database would run it);
//   - at version 0 no table, view, sequence, index, function or type of
//     ours is left (goose's own version table and extensions' objects
//     aside);
//   - up again, the schema is exactly the first one (pg_dump --schema-only).
func MigrationsRoundTrip(t testing.TB, url string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := migrations.Provider(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil || current != target || current == 0 {
		t.Fatalf("migrations: database at version %d of %d (%v), want fully migrated", current, target, err)
	}
	first := SchemaDump(t, url)
	for v := current; v > 0; {
		down, err := p.Down(ctx)
		if err != nil {
			t.Fatalf("migration %d: Down: %v", v, err)
		}
		version := down.Source.Version
		if _, err := p.UpByOne(ctx); err != nil {
			t.Fatalf("migration %d: Up after its Down: %v", version, err)
		}
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("migration %d: second Down: %v", version, err)
		}
		if v, err = p.GetDBVersion(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if left := leftovers(t, db); len(left) > 0 {
		t.Fatalf("migrations: at version 0 these are still there:\n  %s", strings.Join(left, "\n  "))
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("migrations: Up from 0: %v", err)
	}
	if again := SchemaDump(t, url); again != first {
		t.Fatalf("migrations: the schema after down and up differs from the first:\n%s", lineDiff(first, again))
	}
}

// leftovers lists the objects in schema public that no extension owns,
// goose's version table aside.
func leftovers(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`
		SELECT kind || ' ' || name FROM (
			SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
				WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' WHEN 'i' THEN 'index'
				WHEN 'I' THEN 'index' ELSE 'relation ' || c.relkind::text END AS kind, c.relname::text AS name, c.oid, 'pg_class'::regclass AS cls
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'f')
				AND c.relname NOT IN ('goose_db_version', 'goose_db_version_id_seq', 'goose_db_version_pkey')
			UNION ALL
			SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.oid, 'pg_proc'::regclass
			FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
			UNION ALL
			SELECT 'type', t.typname::text, t.oid, 'pg_type'::regclass
			FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
			WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c', 'r', 'm')
				AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
		) o
		WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.cls AND d.objid = o.oid AND d.deptype = 'e')
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// SchemaDump is pg_dump --schema-only of the database at url, without
// its comments and its per-run \restrict key, so that two dumps of equal
// schemas are equal strings.
func SchemaDump(t testing.TB, url string) string {
	t.Helper()
	bin, err := stack.PostgresProgram("pg_dump")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := osexec.Command(bin, "--schema-only", "--no-owner", "--no-privileges", "--dbname", url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("testenv: pg_dump: %v\n%s", err, stderr.String())
	}
	var b strings.Builder
	for _, line := range strings.Split(stdout.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "--") || strings.HasPrefix(line, `\restrict`) || strings.HasPrefix(line, `\unrestrict`) {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// lineDiff lists the lines only one of a and b has.
func lineDiff(a, b string) string {
	count := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(b, "\n") {
		count[l]--
	}
	var out []string
	for l, n := range count {
		switch {
		case n > 0:
			out = append(out, "- "+l)
		case n < 0:
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(the same lines in another order)"
	}
	return strings.Join(out, "\n")
}
