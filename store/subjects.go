package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/certdesk/certdesk"
)

// The key store of codec/subject.go: a person's own keys, sealed by a
// payload key, one live key per address. The store never sees a key in
// the clear.

type subjectKeyRow struct {
	ID        string
	Email     string
	Sealed    []byte
	WrapKeyID string
	CreatedAt time.Time
	ErasedAt  *time.Time
}

func (subjectKeyRow) TableName() string { return "subject_keys" }

// SubjectKeyID names the live key of an address, making one with newKey
// (the codec seals it) when the address has none: every payload of a case
// about the person with that address is sealed by it. Two callers racing
// for a new address get the same key.
func (s *Store) SubjectKeyID(ctx context.Context, email string, newKey func(id string) (sealed []byte, wrapKeyID string)) (string, error) {
	email = certdesk.NormalizeEmail(email)
	if email == "" {
		return "", nil
	}
	db := s.db.WithContext(ctx)
	live := func() (string, error) {
		var ids []string
		err := db.Model(&subjectKeyRow{}).Where("email = ? AND erased_at IS NULL", email).Limit(1).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return "", err
		}
		return ids[0], nil
	}
	if id, err := live(); err != nil || id != "" {
		return id, translateWrap("subject key", err)
	}
	id := "sk_" + certdesk.NewID()
	sealed, wrap := newKey(id)
	// One round trip for a new address: the row, or nothing when another
	// caller made the address's key first.
	var made []string
	if err := db.Raw(`INSERT INTO subject_keys (id, email, sealed, wrap_key_id, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (email) WHERE erased_at IS NULL DO NOTHING RETURNING id`, id, email, sealed, wrap, s.now()).Scan(&made).Error; err != nil {
		return "", translateWrap("subject key", err)
	}
	if len(made) == 1 {
		return made[0], nil
	}
	id, err := live()
	if err == nil && id == "" {
		err = errors.New("no live key after creating one")
	}
	return id, translateWrap("subject key", err)
}

// SealedSubjectKey returns a key as kept: sealed by the payload key
// wrapKeyID, or nil once erased (codec.KeyStore).
func (s *Store) SealedSubjectKey(ctx context.Context, id string) ([]byte, string, error) {
	var row subjectKeyRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, "", fmt.Errorf("store: no subject key %q", id)
		}
		return nil, "", translateWrap("subject key", err)
	}
	if row.ErasedAt != nil {
		return nil, "", nil
	}
	return row.Sealed, row.WrapKeyID, nil
}

// ResealSubjectKeys seals again, with reseal (the codec's current payload
// key), every live key sealed by another payload key, so that key can
// retire; it returns how many it resealed.
func (s *Store) ResealSubjectKeys(ctx context.Context, current string, reseal func(id string, sealed []byte, wrapKeyID string) ([]byte, string, error)) (int, error) {
	var rows []subjectKeyRow
	if err := s.db.WithContext(ctx).Where("erased_at IS NULL AND wrap_key_id <> ?", current).Find(&rows).Error; err != nil {
		return 0, translateWrap("reseal subject keys", err)
	}
	n := 0
	for _, r := range rows {
		sealed, wrap, err := reseal(r.ID, r.Sealed, r.WrapKeyID)
		if err != nil {
			return n, err
		}
		res := s.db.WithContext(ctx).Model(&subjectKeyRow{}).Where("id = ? AND erased_at IS NULL", r.ID).
			Updates(map[string]any{"sealed": sealed, "wrap_key_id": wrap})
		if res.Error != nil {
			return n, translateWrap("reseal subject keys", res.Error)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// eraseSubjectKeys destroys the live keys of addresses and returns their
// ids (for the codec to forget).
func eraseSubjectKeys(tx *gorm.DB, addresses []string, now time.Time) ([]string, error) {
	var ids []string
	if err := tx.Model(&subjectKeyRow{}).Where("email IN ? AND erased_at IS NULL", addresses).Pluck("id", &ids).Error; err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	err := tx.Model(&subjectKeyRow{}).Where("id IN ?", ids).
		Updates(map[string]any{"sealed": nil, "email": "", "erased_at": now}).Error
	return ids, err
}

func translateWrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", what, translate(err))
}

// WorkflowSubjectKey names the live key of the person whose case a
// workflow runs (its latest case: a connect workflow's id serves one
// learning profile's successive cases), or "" (codec.KeyStore).
func (s *Store) WorkflowSubjectKey(ctx context.Context, workflowID string) (string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Raw(`SELECT k.id FROM cases c JOIN subject_keys k ON k.email = LOWER(TRIM(c.learner_email)) AND k.erased_at IS NULL
		WHERE c.workflow_id = ? AND c.learner_email <> '' ORDER BY c.created_at DESC LIMIT 1`, workflowID).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return "", translateWrap("workflow subject key", err)
	}
	return ids[0], nil
}
