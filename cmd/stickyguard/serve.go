package main

import (
	"fmt"
	"io"
)

// STUB: replaced by the serve implementation.
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyguard serve: not implemented yet")
	return 2
}
