// Package temporal holds the dynamic config a Temporal cluster should run
// certdesk with (dynamicconfig.yaml), embedded so that certdesk bench can
// hand it to the server it measures; its test checks the file with the
// server's own loader and against dev mode's settings.
package temporal

import _ "embed"

// DynamicConfig is dynamicconfig.yaml, in the server's file format.
//
//go:embed dynamicconfig.yaml
var DynamicConfig []byte
