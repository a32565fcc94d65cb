package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/certdesk/certdesk"
)

// CreateDatabase creates a fresh PostgreSQL database, named prefix and a
// new id, on the server of adminURL, for a run that needs one of its own
// (the chaos run, the benchmarks). It returns the new database's URL, the
// admin connection (the caller closes it) and drop, which removes the
// database and whatever is still connected to it.
func CreateDatabase(ctx context.Context, adminURL, prefix string) (dbURL string, drop func(), admin *sql.DB, err error) {
	admin, err = sql.Open("pgx", adminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		return "", nil, nil, fmt.Errorf("PostgreSQL at %s: %w", adminURL, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		admin.Close()
		return "", nil, nil, err
	}
	name := prefix + strings.ToLower(certdesk.NewID())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop = func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			slog.Warn("drop database", "database", name, "err", err)
		}
	}
	return u.String(), drop, admin, nil
}

// DatabaseName is the database a PostgreSQL URL names.
func DatabaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}
