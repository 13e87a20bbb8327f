package main

import (
	"fmt"
	"io"
)

// STUB: replaced by the rules implementation.
func runRules(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyguard rules: not implemented yet")
	return 2
}
