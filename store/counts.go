package store

import (
	"context"
	"fmt"
)

// CountCases counts the cases a filter selects (every page of them, the
// cursor and limit ignored): one aggregate, no row loaded. The console's
// tabs show it.
func (s *Store) CountCases(ctx context.Context, f CaseFilter) (n int64, err error) {
	f.Cursor = ""
	q, err := s.listQuery(s.db.WithContext(ctx), f)
	if err != nil {
		return 0, err
	}
	sub := q.Select("id").Limit(-1)
	if err := s.db.WithContext(ctx).Table("(?) AS selected", sub).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count cases: %w", translate(err))
	}
	return n, nil
}
