package devserver

import (
	"io"
	"log/slog"
	"net"
	"strings"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
)

// Scratch sets up a throwaway run on this server (the chaos run, the
// benchmarks): dev mode's configuration pointed at dbURL, a listener on a
// free local port for the API, a fresh secret and payload key, a task queue
// of its own named after the run, clients trusted to say their own address
// (X-Forwarded-For from 127.0.0.1: the run's many people each ask from one),
// and a Temporal client with the payload codec (opening people's own keys
// from ks) and no log.
func (s *Server) Scratch(dbURL, name string, ks codec.KeyStore) (config.Config, net.Listener, client.Client, error) {
	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		return cfg, nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg.DatabaseURL, cfg.HTTPAddr, cfg.PublicURL = dbURL, ln.Addr().String(), "http://"+ln.Addr().String()
	cfg.Secret, cfg.PayloadKeys, cfg.TaskQueue = certdesk.NewID()+certdesk.NewID(), codec.NewKey(name+"1"), name+"-"+strings.ToLower(certdesk.NewID())
	cfg.Temporal.Address, cfg.Temporal.Namespace = s.HostPort(), Namespace
	cfg.TrustedProxies = []string{"127.0.0.1"}
	cd, err := codec.Parse(cfg.PayloadKeys)
	if err == nil {
		cd.UseKeyStore(ks)
		var tc client.Client
		tc, err = client.Dial(cd.Client(client.Options{HostPort: s.HostPort(), Namespace: Namespace,
			Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}))
		if err == nil {
			return cfg, ln, tc, nil
		}
	}
	ln.Close()
	return cfg, nil, nil, err
}
