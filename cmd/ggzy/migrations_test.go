package main

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

// The migrations go down to nothing and up again over the demo data set
// (`ggzy demo`, loaded once per test binary by demoFixture and copied):
// every Down works with rows in the tables, every Up works
// over the rows the earlier migrations keep, and the schema comes back
// the same (the empty database's variant is in package migrations).
func TestMigrationsUpDownUpDemo(t *testing.T) {
	t.Parallel()
	cfg := demoConfig(t)
	if out := demoOutput; !strings.Contains(out, "toubiao") {
		t.Fatalf("demo:\n%s", out)
	}
	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var projects, lots, announcements, audit int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM projects), (SELECT count(*) FROM lot_outcomes),
		(SELECT count(*) FROM announcements), (SELECT count(*) FROM audit_events)`).Scan(&projects, &lots, &announcements, &audit); err != nil {
		t.Fatal(err)
	}
	if projects < 10 || lots < 10 || announcements < 10 || audit < 100 {
		t.Fatalf("demo: %d projects, %d lot outcomes, %d announcements, %d audit records: too few to test the migrations on", projects, lots, announcements, audit)
	}
	t.Logf("demo: %d projects, %d lot outcomes, %d announcements, %d audit records", projects, lots, announcements, audit)
	testenv.MigrationsRoundTrip(t, cfg.DatabaseURL)
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM projects`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("after down and up: %d projects (%v), want an empty schema", left, err)
	}
}
