package main

import (
	"fmt"
	"io"
)

// STUB: replaced by the certs implementation.
func runCerts(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "stickyguard certs: not implemented yet")
	return 2
}
