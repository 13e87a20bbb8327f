package main

import (
	"fmt"
	"io"
)

// STUB: replaced by the check implementation.
func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyguard check: not implemented yet")
	return 2
}
