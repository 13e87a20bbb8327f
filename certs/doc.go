// Package certs makes the TLS material the webhook needs when cert-manager is
// not installed, and for local runs: a self-signed CA (about ten years), a
// serving certificate for the webhook Service DNS names (about one year)
// signed by it, the caBundle the webhook configurations carry, and the
// renewal of the serving certificate before it expires, reusing the CA.
//
// It writes files (tls.crt, tls.key, ca.crt, ca.key) into a directory,
// atomically and with private keys 0600, and never prints a private key. It
// knows nothing about the webhook server: `serve` watches the files and
// reloads them itself. Flag parsing lives in cmd/stickyguard/certs.go.
package certs
