package main

import (
	"fmt"
	"io"
)

// STUB: replaced by the audit implementation.
func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyguard audit: not implemented yet")
	return 2
}
