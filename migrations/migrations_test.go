package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
	"github.com/ggzy/ggzy/migrations"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// On an empty database every migration goes up, down to nothing and up
// again to the same schema (the demo data set's variant is in cmd/ggzy).
func TestMigrationsUpDownUpEmpty(t *testing.T) {
	t.Parallel()
	url := testenv.EmptyDatabaseURL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrations.Check(context.Background(), db); err == nil {
		t.Fatal("an empty database passes the schema check")
	}
	if err := migrations.Up(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Check(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	testenv.MigrationsRoundTrip(t, url)
	if err := migrations.Check(context.Background(), db); err != nil {
		t.Fatalf("after the round trip: %v", err)
	}
}
