package devserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	"go.temporal.io/server/common/persistence"
	"go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/common/resolver"
	serverschema "go.temporal.io/server/schema"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// Cluster runs the server in a cluster's shape instead of dev mode's: its
// state in PostgreSQL (two databases, as temporal-sql-tool sets them up),
// several history shards, and the cluster's dynamic config instead of
// LatencyConfig. It is what `certdesk temporal serve` runs, so that the
// settings a cluster should use can be measured on this machine.
type Cluster struct {
	// Postgres is the URL of the database for the server's state
	// (postgres://user[:password]@host:port/name). The database must exist;
	// its schema is set up when it has none.
	Postgres string
	// Visibility is the URL of the visibility database; empty means the
	// same server and user, the database named Postgres's name + "_visibility".
	Visibility string
	// Shards is the number of history shards (fixed for the life of the
	// databases); 0 means 4, the Temporal server image's default.
	Shards int
	// DynamicConfig is the cluster's dynamic config; nil means the server's
	// defaults.
	DynamicConfig dynamicconfig.Client
}

const (
	defaultShards    = 4
	temporalSchema   = "postgresql/v12/temporal/schema.sql"
	visibilitySchema = "postgresql/v12/visibility/schema.sql"
)

// serverConfig is the server's configuration on the cluster's databases,
// their schemas set up and the default namespace created when missing.
func (c *Cluster) serverConfig(ports []int) (*config.Config, error) {
	main, err := postgresSQL(c.Postgres)
	if err != nil {
		return nil, err
	}
	visURL := c.Visibility
	if visURL == "" {
		visURL, err = visibilityURL(c.Postgres)
		if err != nil {
			return nil, err
		}
	}
	vis, err := postgresSQL(visURL)
	if err != nil {
		return nil, err
	}
	if err := setupPostgres(main, temporalSchema, pgschema.Version); err != nil {
		return nil, err
	}
	if err := setupPostgres(vis, visibilitySchema, pgschema.VisibilityVersion); err != nil {
		return nil, err
	}
	// The namespace row is the same for every SQL plugin: the SQLite
	// helper writes it through the generic persistence interface.
	ns, err := sqliteschema.NewNamespaceConfig("active", Namespace, false, searchAttributes())
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(main, ns); err != nil {
		return nil, fmt.Errorf("devserver: create namespace in %s: %w", main.DatabaseName, err)
	}

	conf := serverConfig(main, ports)
	conf.Persistence.DefaultStore = "postgres"
	conf.Persistence.VisibilityStore = "postgres-visibility"
	conf.Persistence.DataStores = map[string]config.DataStore{"postgres": {SQL: main}, "postgres-visibility": {SQL: vis}}
	conf.Persistence.NumHistoryShards = defaultShards
	if c.Shards > 0 {
		conf.Persistence.NumHistoryShards = int32(c.Shards)
	}
	return conf, nil
}

func (c *Cluster) dynamicConfig() dynamicconfig.Client {
	if c.DynamicConfig == nil {
		return dynamicconfig.StaticClient{}
	}
	return c.DynamicConfig
}

// postgresSQL is the server's SQL datastore for a PostgreSQL URL, through
// the pgx driver.
func postgresSQL(rawURL string) (*config.SQL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("devserver: %q is not a PostgreSQL URL (postgres://user@host:port/database)", redact(rawURL))
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("devserver: %s names no database", redact(rawURL))
	}
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	conf := &config.SQL{
		PluginName:        pgplugin.PluginNamePGX,
		ConnectAddr:       host,
		DatabaseName:      name,
		ConnectAttributes: map[string]string{},
		// Each of the four services has its own pool: 4 × 8 × 2 databases
		// stays well inside PostgreSQL's default max_connections (100).
		MaxConns:     8,
		MaxIdleConns: 8,
	}
	if u.User != nil {
		conf.User = u.User.Username()
		conf.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		conf.ConnectAttributes[k] = v[0]
	}
	return conf, nil
}

// visibilityURL is the URL of the database beside the main one that keeps
// visibility: temporal-sql-tool's layout (temporal, temporal_visibility).
func visibilityURL(mainURL string) (string, error) {
	u, err := url.Parse(mainURL)
	if err != nil {
		return "", fmt.Errorf("devserver: %q is not a PostgreSQL URL", redact(mainURL))
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "_visibility"
	return u.String(), nil
}

// setupPostgres applies the server's own schema file (the current one,
// which its versioned updates add up to) to a database without one, and
// records its version as temporal-sql-tool setup-schema does. A database
// at an older version is refused: update-schema is an operator's step.
func setupPostgres(conf *config.SQL, schemaFile, version string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("devserver: schema of %s: %w", conf.DatabaseName, err)
		}
	}()
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, conf, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return err
	}
	defer db.Close()
	if current, err := db.ReadSchemaVersion(conf.DatabaseName); err == nil && current != "" {
		if current != version {
			return fmt.Errorf("at version %s, this server needs %s: run temporal-sql-tool update-schema", current, version)
		}
		return nil
	}
	text, err := fs.ReadFile(serverschema.Assets(), schemaFile)
	if err != nil {
		return err
	}
	stmts, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{bytes.NewReader(text)})
	if err != nil {
		return err
	}
	if err := db.CreateSchemaVersionTables(); err != nil {
		return err
	}
	for _, stmt := range stmts {
		if err := db.Exec(stmt); err != nil {
			return fmt.Errorf("%q: %w", firstLine(stmt), err)
		}
	}
	if err := db.UpdateSchemaVersion(conf.DatabaseName, version, version); err != nil {
		return err
	}
	return db.WriteSchemaUpdateLog("0", version, "", "initial version")
}

// DropPostgres drops a cluster's two databases (a throwaway run's), after
// the server using them has stopped. adminURL is a database on the same
// server to connect to while dropping.
func DropPostgres(adminURL string, c Cluster) error {
	admin, err := postgresSQL(adminURL)
	if err != nil {
		return err
	}
	visURL := c.Visibility
	if visURL == "" {
		if visURL, err = visibilityURL(c.Postgres); err != nil {
			return err
		}
	}
	db, err := sql.NewSQLAdminDB(sqlplugin.DbKindUnknown, admin, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("devserver: %w", err)
	}
	defer db.Close()
	var errs []error
	for _, u := range []string{c.Postgres, visURL} {
		conf, err := postgresSQL(u)
		if err == nil {
			err = db.Exec("DROP DATABASE IF EXISTS " + pgIdent(conf.DatabaseName) + " WITH (FORCE)")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("devserver: drop %s: %w", redact(u), err))
		}
	}
	return errors.Join(errs...)
}

func pgIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// redact hides a URL's password in messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
