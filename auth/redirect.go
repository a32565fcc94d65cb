package auth

import (
	"net/url"
	"strings"
)

// maxNext bounds a redirect target: a same-site path is short.
const maxNext = 2048

// maxUnescapes is how many rounds of percent-decoding a target may need
// before it is stable; a target that keeps changing is refused.
const maxUnescapes = 4

// safeNext keeps a caller-supplied redirect target on this site: it returns
// next when it is a plain same-site path, else "/".
//
// Browsers drop tabs and newlines from a URL and read "\" as "/", so
// "/\t/evil.example" and "/\evil.example" leave the site like
// "//evil.example" does; a proxy or a later redirect may decode "/%2f" into
// "//". So the target, and every form percent-decoding gives it until it is
// stable, must start with one "/" and hold only printable ASCII without
// backslash, with no empty, "." or ".." segment in its path. A non-ASCII
// path (a look-alike slash such as U+FF0F or U+2215) goes to "/" as well:
// certdesk's own pages never need one.
func safeNext(next string) string {
	if len(next) > maxNext {
		return "/"
	}
	s := next
	for range maxUnescapes + 1 {
		if !plainPath(s) {
			return "/"
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return "/"
		}
		if d == s {
			return next
		}
		s = d
	}
	return "/"
}

// plainPath reports whether s is a path on this site as it stands: one
// leading "/", printable ASCII but "\", and a path part (before "?" or
// "#") without "//" or dot segments.
func plainPath(s string) bool {
	if !strings.HasPrefix(s, "/") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	p := s
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.Contains(p, "//") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
