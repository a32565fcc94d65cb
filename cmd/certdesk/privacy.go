package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// runPrivacy answers a person's request about their data received by
// another way than the portal:
//
//	certdesk privacy export --email E [--out FILE]
//
// The copy is the portal's "Download my data", as JSON, to stdout or FILE;
// producing it is audited.
func runPrivacy(ctx context.Context, args []string, stdout io.Writer) error {
	sub, cmd, f, args, err := subcommand("privacy", []string{"export"}, args, stdout, privacyCommand)
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

type privacyFlags struct{ email, out, dataDir string }

func privacyCommand(sub string, stdout io.Writer) (*command, *privacyFlags) {
	f := &privacyFlags{}
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
