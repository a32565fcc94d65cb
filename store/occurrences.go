package store

import (
	"context"
	"fmt"
	"sort"
)

// Occurrences lists where a text occurs in the store, as "table.column"
// with a count, over every column of every table (names cast to text):
// proof after an erasure that an address or a name is gone
// (`certdesk privacy erase` checks it). It reads every row: a check for an
// operator or a test, not for a request.
func (s *Store) Occurrences(ctx context.Context, text string) (map[string]int64, error) {
	db := s.db.WithContext(ctx)
	var cols []struct{ Table, Column string }
	q := `SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns WHERE table_schema = current_schema()`
	if s.dialect != "postgres" {
		q = `SELECT m.name AS "table", p.name AS "column" FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`
	}
	if err := db.Raw(q).Scan(&cols).Error; err != nil {
		return nil, fmt.Errorf("store: occurrences: %w", translate(err))
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].Table+cols[i].Column < cols[j].Table+cols[j].Column })
	out := map[string]int64{}
	like := "%" + text + "%"
	for _, c := range cols {
		expr := `CAST("` + c.Column + `" AS TEXT)`
		if s.dialect == "postgres" {
			expr = `"` + c.Column + `"::text`
		}
		var n int64
		if err := db.Raw(`SELECT COUNT(*) FROM "`+c.Table+`" WHERE `+expr+` LIKE ?`, like).Scan(&n).Error; err != nil {
			return nil, fmt.Errorf("store: occurrences in %s.%s: %w", c.Table, c.Column, translate(err))
		}
		if n > 0 {
			out[c.Table+"."+c.Column] = n
		}
	}
	return out, nil
}
