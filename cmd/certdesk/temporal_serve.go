package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"

	"github.com/certdesk/certdesk/devserver"
)

// runTemporalServe runs a Temporal server in a cluster's shape as its own
// process, for measuring the settings a cluster should use (certdesk bench
// --scenario temporal-settings starts it):
//
//	certdesk temporal serve --postgres URL [--dynamic-config FILE] [--port N] [--shards N] [--log-file FILE]
//
// Hidden from the usage: it is a bench's tool, not a way to run Temporal in
// production (a cluster runs the temporalio/server image or Temporal Cloud).
func runTemporalServe(ctx context.Context, args []string, stdout io.Writer) error {
	cmd := newCommand("temporal serve", "temporal serve --postgres URL [--dynamic-config FILE] [--port N] [--shards N] [--log-file FILE]",
		"Runs a Temporal server (go.temporal.io/server, all four services) on PostgreSQL in this process until interrupted: "+
			"a cluster's shape on one machine, for certdesk bench --scenario temporal-settings. "+
			"The databases must exist (URL's and URL's name + \"_visibility\"); their schemas are set up when empty. "+
			"Without --dynamic-config the server runs on its defaults.", stdout)
	pg := cmd.String("postgres", "", "the server's database, e.g. postgres://postgres@127.0.0.1:5432/temporal?sslmode=disable")
	vis := cmd.String("visibility", "", "the visibility database (default: the --postgres database's name + _visibility)")
	file := cmd.String("dynamic-config", "", "a dynamic-config YAML file (e.g. deploy/temporal/dynamicconfig.yaml); every key must be one the server knows")
	port := cmd.Int("port", 7233, "the frontend's gRPC port on 127.0.0.1 (0: a free one)")
	shards := cmd.Int("shards", 4, "history shards (fixed for the life of the databases)")
	logFile := cmd.String("log-file", "", "where the server's warnings and errors go (default: discarded)")
	if err := cmd.parse(args); err != nil {
		return err
	}
	if *pg == "" {
		return usagef("temporal serve: --postgres is required (certdesk temporal serve --help)")
	}
	if *port < 0 || *port > 65535 || *shards < 1 {
		return usagef("temporal serve: --port must be 0–65535 and --shards at least 1")
	}
	cluster := &devserver.Cluster{Postgres: *pg, Visibility: *vis, Shards: *shards}
	settings := "the server's defaults"
	if *file != "" {
		dc, err := fileDynamicConfig(*file, ctx.Done())
		if err != nil {
			return err
		}
		cluster.DynamicConfig, settings = dc, *file
	}
	began := time.Now()
	srv, err := devserver.Start(ctx, devserver.Options{Port: *port, LogFile: *logFile, Cluster: cluster})
	if err != nil {
		return fmt.Errorf("temporal serve: %w", err)
	}
	// The first line names the address: whoever started this process reads it.
	fmt.Fprintf(stdout, "temporal serving on %s (%d shards, dynamic config: %s; ready in %.1f s)\n",
		srv.HostPort(), *shards, settings, time.Since(began).Seconds())
	<-ctx.Done()
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("temporal serve: stop: %w", err)
	}
	return nil
}

// fileDynamicConfig is the server's own file-based dynamic-config client,
// after the file is read with the server's loader: a key the server does
// not know, or a value it refuses, is an error here, where the server
// would only log it and run on its default.
func fileDynamicConfig(path string, done <-chan struct{}) (dynamicconfig.Client, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("temporal serve: --dynamic-config: %v", err)
	}
	lr := dynamicconfig.LoadYamlFile(text)
	if problems := append(lr.Errors, lr.Warnings...); len(problems) > 0 {
		return nil, usagef("temporal serve: --dynamic-config %s: %v", path, problems)
	}
	stop := make(chan any)
	go func() { <-done; close(stop) }()
	c, err := dynamicconfig.NewFileBasedClient(&dynamicconfig.FileBasedClientConfig{Filepath: path, PollInterval: 10 * time.Second},
		log.NewNoopLogger(), stop)
	if err != nil {
		return nil, fmt.Errorf("temporal serve: %w", err)
	}
	return c, nil
}
