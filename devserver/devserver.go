// Package devserver runs a Temporal server inside the certdesk process,
// persisted in a SQLite file, for `certdesk dev` and for tests.
//
// It is built from the server's public packages only. Two choices matter:
// static hosts (a restarted server would otherwise wait ~50 s for stale
// membership rows to expire before a waiting workflow moves again) and a
// dynamic config tuned for latency (the default holds every transfer task
// ~50 ms on a one-shard server).
package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Namespace is the only namespace the embedded server creates.
const Namespace = "default"

const host = "127.0.0.1"

// Options configure an embedded server.
type Options struct {
	// DatabaseFile is the SQLite file holding all server state. It is created
	// with the schema when missing. Empty means in memory (tests).
	DatabaseFile string
	// Port of the frontend (gRPC). 0 picks a free port.
	Port int
	// LogFile receives the server's own warnings and errors (it is
	// verbose). Empty discards them (tests).
	LogFile string
	// DynamicConfig overrides or adds to LatencyConfig.
	DynamicConfig map[string]any
	// Cluster, when set, runs the server in a cluster's shape instead of
	// the above (PostgreSQL, shards, its own dynamic config: postgres.go).
	Cluster *Cluster
}

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	hostPort string
}

// LatencyConfig is the dynamic config used in dev mode. Each value trades a
// little CPU for latency on a single-process, single-shard server:
//   - the queue processors' poll rates bound how fast a task moves from one
//     step to the next (default 20/s: ~50 ms per step);
//   - the history cache keeps recently used workflows in memory.
func LatencyConfig() map[string]any {
	return map[string]any{
		dynamicconfig.TransferProcessorMaxPollRPS.Key().String():                  1000,
		dynamicconfig.TimerProcessorMaxPollRPS.Key().String():                     1000,
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key().String():                1000,
		dynamicconfig.OutboundProcessorMaxPollRPS.Key().String():                  1000,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key().String():                 8192,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key().String(): 100,
	}
}

// Start creates (if needed) and starts a server. It returns once the frontend
// answers health checks.
func Start(ctx context.Context, opts Options) (*Server, error) {
	ports, err := freePorts(opts.Port, 4)
	if err != nil {
		return nil, err
	}
	var conf *config.Config
	if opts.Cluster != nil {
		conf, err = opts.Cluster.serverConfig(ports)
	} else {
		var sqlConf *config.SQL
		if sqlConf, err = sqlConfig(opts.DatabaseFile); err == nil {
			conf = serverConfig(sqlConf, ports)
		}
	}
	if err != nil {
		return nil, err
	}

	logger, err := serverLogger(opts.LogFile)
	if err != nil {
		return nil, err
	}
	var dyn dynamicconfig.Client
	if opts.Cluster != nil {
		dyn = opts.Cluster.dynamicConfig()
	} else {
		dev := dynamicconfig.StaticClient{}
		for k, v := range LatencyConfig() {
			dev[dynamicconfig.MakeKey(k)] = v
		}
		for k, v := range VersioningConfig() {
			dev[dynamicconfig.MakeKey(k)] = v
		}
		for k, v := range opts.DynamicConfig {
			dev[dynamicconfig.MakeKey(k)] = v
		}
		dyn = dev
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for i, svc := range services {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(ports[i])))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start: %w", err)
	}
	s := &Server{server: srv, hostPort: conf.PublicClient.HostPort}
	if err := s.waitHealthy(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	if err := s.registerSearchAttributes(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	return s, nil
}

// HostPort is the frontend address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// Stop stops all services; state stays in the database file.
func (s *Server) Stop() error { return s.server.Stop() }

var services = []primitives.ServiceName{
	primitives.FrontendService,
	primitives.HistoryService,
	primitives.MatchingService,
	primitives.WorkerService,
}

func serverConfig(sqlConf *config.SQL, ports []int) *config.Config {
	frontend := net.JoinHostPort(host, strconv.Itoa(ports[0]))
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for i, svc := range services {
		conf.Services[string(svc)] = config.Service{RPC: config.RPC{GRPCPort: ports[i], BindOnIP: host}}
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The server's internal clients dial this; it fails to start without it.
	conf.PublicClient.HostPort = frontend
	return conf
}

// sqlConfig prepares the SQLite datastore: the schema on a new file, and the
// default namespace (a no-op when it exists).
func sqlConfig(file string) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName, ConnectAttributes: map[string]string{}}
	if file == "" {
		conf.ConnectAttributes["mode"] = "memory"
		conf.ConnectAttributes["cache"] = "shared"
		conf.DatabaseName = "devserver-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	} else {
		conf.DatabaseName = file
		conf.ConnectAttributes["mode"] = "rwc"
		// WAL lets the server use more than one connection.
		conf.ConnectAttributes["journal_mode"] = "wal"
		conf.ConnectAttributes["synchronous"] = "2"
	}
	if file != "" {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				return nil, fmt.Errorf("devserver: %w", err)
			}
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return nil, fmt.Errorf("devserver: set up schema in %s: %w", file, err)
			}
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig("active", Namespace, false, searchAttributes())
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("devserver: create namespace: %w", err)
	}
	return conf, nil
}

func serverLogger(file string) (log.Logger, error) {
	if file == "" {
		return log.NewNoopLogger(), nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	return log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", OutputFile: file})), nil
}

// freePorts returns n ports: first (or a free one when 0), then free ones.
func freePorts(first, n int) ([]int, error) {
	ports := make([]int, 0, n)
	if first != 0 {
		ports = append(ports, first)
	}
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("devserver: find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func (s *Server) waitHealthy(ctx context.Context) error {
	conn, err := grpc.NewClient(s.hostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("devserver: dial %s: %w", s.hostPort, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "temporal.api.workflowservice.v1.WorkflowService"})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: frontend %s not serving: %v", s.hostPort, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
