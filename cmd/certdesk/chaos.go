package main

import (
	"context"
	"errors"
	"io"
)

func runChaos(ctx context.Context, args []string, stdout io.Writer) error {
	return errors.New("chaos: not implemented")
}
