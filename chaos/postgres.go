package chaos

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// postgres is a PostgreSQL server of the run's own, in a temporary data
// directory on a free port, so the run can restart it: the machine's
// server is shared with every other test and is never restarted. It runs
// as the postgres OS user when the run is root (PostgreSQL refuses root),
// with fsync off: its data lives as long as the run.
type postgres struct {
	bin  string // the folder of initdb, pg_ctl and postgres
	dir  string // owns data/ and the server's log
	port int
	cred *syscall.Credential // nil: run as ourselves

	mu       sync.Mutex
	restarts []time.Duration
	errs     []string
}

// postgresBinaries is where the PostgreSQL programs are: bin if given,
// else the folder of pg_ctl on PATH, else the newest
// /usr/lib/postgresql/*/bin. "" when none has them all.
func postgresBinaries(bin string) string {
	has := func(dir string) bool {
		for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if bin != "" {
		if has(bin) {
			return bin
		}
		return ""
	}
	// pg_ctl on PATH is often a link into the version's folder: that
	// folder is the one to name.
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real)
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if has(d) {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// startPostgres makes a data directory with initdb and starts a server on
// it. The caller stops it (stop) and removes dir.
func startPostgres(bin string) (p *postgres, err error) {
	p = &postgres{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("PostgreSQL refuses to run as root and there is no postgres user: %w", err)
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if p.dir, err = os.MkdirTemp("", "certdesk-chaos-pg-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(p.dir)
		}
	}()
	if p.cred != nil {
		if err := os.Chown(p.dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return nil, err
		}
	}
	if p.port, err = freeTCPPort(); err != nil {
		return nil, err
	}
	if out, err := p.run("initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	// In postgresql.conf rather than on pg_ctl's command line, so a
	// restart keeps them.
	conf := strings.Join([]string{
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(p.port),
		"unix_socket_directories = '" + p.dir + "'",
		"max_connections = 200",
		"fsync = off",
		"synchronous_commit = off",
		"full_page_writes = off",
		"shared_buffers = 64MB",
		"logging_collector = off",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(p.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("\n# certdesk chaos\n" + conf)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return nil, err
	}
	if out, err := p.pgCtl("start", "-l", p.logFile()); err != nil {
		return nil, fmt.Errorf("pg_ctl start: %w: %s", err, out)
	}
	return p, nil
}

func (p *postgres) data() string    { return filepath.Join(p.dir, "data") }
func (p *postgres) logFile() string { return filepath.Join(p.dir, "postgres.log") }

// AdminURL is the URL of its postgres database, as its superuser.
func (p *postgres) AdminURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// Restart restarts the server as an operator would for a configuration
// change or an upgrade: fast shutdown (every connection cut, open
// transactions rolled back), then start. It returns how long the server
// was away.
func (p *postgres) Restart() (time.Duration, error) {
	began := time.Now()
	out, err := p.pgCtl("restart", "-m", "fast", "-l", p.logFile())
	took := time.Since(began)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("pg_ctl restart: %w: %s", err, out)
		p.errs = append(p.errs, err.Error())
		return took, err
	}
	p.restarts = append(p.restarts, took)
	return took, nil
}

// Restarts lists how long each restart kept the server away.
func (p *postgres) Restarts() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.restarts)
}

// count is how many restarts there were (0 on no server of the run's own).
func (p *postgres) count() int {
	if p == nil {
		return 0
	}
	return len(p.Restarts())
}

// stop stops the server (fast; immediate if that does not do).
func (p *postgres) stop() {
	if _, err := p.pgCtl("stop", "-m", "fast"); err != nil {
		_, _ = p.pgCtl("stop", "-m", "immediate")
	}
}

// remove removes its folder, trying again for a few seconds: a full run
// once left one behind, its server's last files still being written as
// the folder went.
func (p *postgres) remove() {
	for i := 0; i < 20; i++ {
		if err := os.RemoveAll(p.dir); err == nil {
			if _, err := os.Stat(p.dir); errors.Is(err, os.ErrNotExist) {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// pgCtl runs pg_ctl on the data directory, waiting (up to a minute) for
// the server to be up or down.
func (p *postgres) pgCtl(args ...string) ([]byte, error) {
	return p.run("pg_ctl", append([]string{"-D", p.data(), "-w", "-t", "60"}, args...)...)
}

// run runs one of the PostgreSQL programs as the server's OS user. Nothing
// cuts it short (a restart cut short would leave the server down): pg_ctl
// waits a minute at most.
func (p *postgres) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(p.bin, prog), args...)
	cmd.Dir = p.dir
	cmd.Env = []string{"PATH=" + p.bin + ":/usr/bin:/bin", "LC_ALL=C", "LANG=C", "HOME=" + p.dir, "PGDATA=" + p.data()}
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
