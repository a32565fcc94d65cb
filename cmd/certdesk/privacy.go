package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/store"
)

// runPrivacy answers a person's request about their data received by
// another way than the portal:
//
//	certdesk privacy export --email E [--out FILE]
//	certdesk privacy erase --email E --reason R
//
// The copy is the portal's "Download my data", as JSON, to stdout or FILE;
// producing it is audited. The erasure is the console's, approved at once
// (desk.EraseNow).
func runPrivacy(ctx context.Context, args []string, stdout io.Writer) error {
	sub, cmd, f, args, err := subcommand("privacy", []string{"export", "erase"}, args, stdout, privacyCommand)
	if err != nil {
		return err
	}
	if err := cmd.parse(args); err != nil {
		return err
	}
	email, err := certdesk.ParseEmail(f.email)
	if err != nil {
		return usagef("privacy %s: --email: %v", sub, err)
	}
	if sub == "erase" {
		return runErase(ctx, email, f, stdout)
	}
	cfg, err := storeConfig(f.dataDir)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	data, err := st.PersonalData(ctx, email)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(map[string]any{"email": data.Email, "via": "certdesk privacy export"})
	if err := st.Audit(ctx, store.AuditEntry{Actor: certdesk.ActorSystem, Action: "personal_data_exported", Data: raw}); err != nil {
		return err
	}
	out := stdout
	if f.out != "" {
		file, err := os.OpenFile(f.out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer file.Close()
		out = file
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(data); err != nil {
		return err
	}
	if f.out != "" {
		fmt.Fprintf(stdout, "wrote %s: %d accounts, %d certification profiles, %d cases, %d messages, %d emails\n", f.out,
			len(data.Accounts), len(data.CertificationProfiles), len(data.Cases), len(data.Messages), len(data.Emails))
	}
	return nil
}

// runErase erases a person: it needs the store, Temporal (to stop their
// running cases) and the payload keys (their own keys are sealed by them),
// from the environment as the api has them, or dev mode's in --data-dir.
func runErase(ctx context.Context, email string, f *privacyFlags, stdout io.Writer) error {
	if strings.TrimSpace(f.reason) == "" {
		return usagef("privacy erase: --reason is required (why, without naming the person)")
	}
	cfg, err := eraseConfig(f.dataDir)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	opts, cd, err := temporalClientOptions(cfg)
	if err != nil {
		return err
	}
	tc, err := client.DialContext(ctx, cd.UseKeyStore(st).Client(opts))
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer tc.Close()
	by := certdesk.Actor("operator:" + operatorName())
	res, err := desk.New(cfg, st, tc, cd, nil, nil).EraseNow(ctx, by, email, f.reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "erased: %d addresses, %d accounts, %d certification profiles, %d cases (%d open, now cancelled), %d emails, %d keys destroyed\n",
		res.Addresses, res.Accounts, res.CertificationProfiles, res.Cases, res.CancelledCases, res.Emails, res.SubjectKeys)
	if res.SubjectKeys > 0 {
		fmt.Fprintln(stdout, "running certdesk processes forget the destroyed keys within 30 s")
	}
	// The proof: every column of every table, for the address asked for.
	found, err := st.Occurrences(ctx, email)
	if err != nil {
		return err
	}
	if len(found) == 0 {
		fmt.Fprintf(stdout, "%s appears nowhere in the store\n", email)
		return nil
	}
	return fmt.Errorf("%s still appears in the store: %v", email, found)
}

// eraseConfig is the api's configuration from the environment, or dev
// mode's for the store in dataDir (its Temporal on 127.0.0.1:7233).
func eraseConfig(dataDir string) (config.Config, error) {
	if dataDir == "" {
		cfg, err := config.Load(config.ModeProduction, nil)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			return cfg, fmt.Errorf("configuration:\n%w", err)
		}
		return cfg, nil
	}
	cfg, err := config.Load(config.ModeDev, nil)
	if err == nil {
		err = cfg.Dev(dataDir)
	}
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	cfg.DatabaseURL, cfg.Temporal.Namespace = filepath.Join(dataDir, "certdesk.db"), devserver.Namespace
	return cfg, nil
}

// operatorName names who ran a command, for the audit log.
func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

type privacyFlags struct{ email, out, reason, dataDir string }

func privacyCommand(sub string, stdout io.Writer) (*command, *privacyFlags) {
	f := &privacyFlags{}
	if sub == "erase" {
		cmd := newCommand("privacy erase", "privacy erase --email EMAIL --reason TEXT [--data-dir DIR]",
			"Erases the person with this address: their running cases are stopped and end cancelled, their personal data in the store is redacted (names, addresses, messages, files, emails; the cases keep their shape), and their own keys are destroyed, so their data in Temporal's histories can no longer be read. Needs the api's environment (store, Temporal, payload keys). Audited; cannot be undone.", stdout)
		cmd.StringVar(&f.email, "email", "", "the person's address (required)")
		cmd.StringVar(&f.reason, "reason", "", "why, for the audit log, without naming the person (required)")
		cmd.StringVar(&f.dataDir, "data-dir", "", "erase from `certdesk dev`'s store in this folder (dev running)")
		return cmd, f
	}
	if sub != "export" {
		return nil, nil
	}
	cmd := newCommand("privacy export", "privacy export --email EMAIL [--out FILE] [--data-dir DIR]",
		"Writes everything certdesk holds about the person with this address (their accounts and learning profile, certification profiles, cases with timelines, messages and files, emails, audit entries) as JSON, the same copy the portal's \"Download my data\" gives. Audited.", stdout)
	cmd.StringVar(&f.email, "email", "", "the person's address (required)")
	cmd.StringVar(&f.out, "out", "", "write to this file (mode 0600) instead of stdout")
	cmd.StringVar(&f.dataDir, "data-dir", "", "use the store of `certdesk dev` in this folder")
	return cmd, f
}
