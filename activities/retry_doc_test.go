package activities_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every activity says in one line what makes a retry harmless: Temporal
// retries activities, and a worker killed mid-activity runs it again, so
// whoever adds one must think about that. The line is the last of its doc
// comment, "Retry: …".
func TestEveryActivitySaysWhatMakesARetryHarmless(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() || !onActivities(fn.Recv) {
				continue
			}
			found++
			if !hasRetryLine(fn.Doc) {
				t.Errorf("%s: (*Activities).%s has no \"Retry: <what makes a retry harmless>\" line in its doc comment",
					fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
	if found == 0 {
		t.Fatal("found no exported methods on *Activities: is the test looking in the right place?")
	}
}

// onActivities reports whether a receiver is *Activities.
func onActivities(recv *ast.FieldList) bool {
	if len(recv.List) != 1 {
		return false
	}
	star, ok := recv.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == "Activities"
}

// hasRetryLine reports whether a doc comment has a line "Retry: …" with
// something after the colon.
func hasRetryLine(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, line := range strings.Split(doc.Text(), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Retry:"); ok && strings.TrimSpace(rest) != "" {
			return true
		}
	}
	return false
}
