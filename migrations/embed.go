// Package migrations holds the numbered SQL files that are the only way the
// schema changes, and applies them with goose under a PostgreSQL advisory lock
// so that two instances starting together never migrate at once.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// lockID is the advisory lock key held while migrating ("ggzy" in ASCII).
const lockID = 0x67677a79

// Provider returns a goose provider over the embedded migrations.
func Provider(db *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID))
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithSessionLocker(locker)}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	return goose.NewProvider(goose.DialectPostgres, db, files, opts...)
}

// Up applies every pending migration.
func Up(ctx context.Context, db *sql.DB) error {
	p, err := Provider(db, nil)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// ErrSchemaBehind is returned by Check when the database lacks migrations.
type ErrSchemaBehind struct{ Current, Target int64 }

func (e *ErrSchemaBehind) Error() string {
	return fmt.Sprintf("数据库结构版本 %d 落后于程序所需的 %d：请先运行 `ggzy migrate up` (database schema is at version %d, this binary needs %d: run `ggzy migrate up`)",
		e.Current, e.Target, e.Current, e.Target)
}

// ErrSchemaAhead is returned by Check when the database has migrations this
// binary does not know: an older binary must not serve a newer schema.
type ErrSchemaAhead struct{ Current, Target int64 }

func (e *ErrSchemaAhead) Error() string {
	return fmt.Sprintf("数据库结构版本 %d 高于本程序所知的 %d：请升级程序 (database schema %d is newer than this binary's %d)",
		e.Current, e.Target, e.Current, e.Target)
}

// Check returns nil when the database schema is exactly the one this binary
// was built with.
func Check(ctx context.Context, db *sql.DB) error {
	p, err := Provider(db, nil)
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	switch {
	case current < target:
		return &ErrSchemaBehind{Current: current, Target: target}
	case current > target:
		return &ErrSchemaAhead{Current: current, Target: target}
	}
	return nil
}
