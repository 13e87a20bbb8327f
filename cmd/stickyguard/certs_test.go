package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCertsCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runCerts(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	hooks := filepath.Join(t.TempDir(), "hooks.yaml")
	require.NoError(t, os.WriteFile(hooks, []byte("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: x}\nwebhooks:\n- name: a.example.com\n  clientConfig: {url: https://127.0.0.1:1/x}\n"), 0o644))
	patched := filepath.Join(t.TempDir(), "patched.yaml")

	steps := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		{name: "generate", args: []string{"--out-dir", dir, "--hosts", "127.0.0.1"}, wantOut: "serving certificate valid until"},
		{name: "refuse overwrite", args: []string{"--out-dir", dir}, wantCode: 1, wantErr: "already exist"},
		{name: "force keeps the CA", args: []string{"--out-dir", dir, "--force"}, wantOut: "kept the CA"},
		{name: "ca bundle from existing files", args: []string{"--out-dir", dir, "--ca-bundle"}, wantOut: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"},
		{name: "patch to file, flags after the file", args: []string{"--out-dir", dir, "--patch", hooks, "-o", patched}, wantOut: "patched the caBundle of 1 webhooks"},
		{name: "patch to stdout", args: []string{"--out-dir", dir, "--patch", hooks}, wantOut: "caBundle: LS0t"},
		{name: "check ok", args: []string{"check", "--out-dir", dir}, wantOut: "ok: nothing expires"},
		{name: "check due", args: []string{"check", "--out-dir", dir, "--renew-before", "9000h"}, wantCode: 1, wantOut: "renewal due"},
		{name: "renew", args: []string{"--out-dir", dir, "--renew-before", "9000h"}, wantOut: "renewed the serving certificate with the same CA"},
		{name: "renew not due", args: []string{"--out-dir", dir, "--renew-before", "720h"}, wantOut: "nothing to do"},
		{name: "new-ca without force", args: []string{"--out-dir", dir, "--new-ca"}, wantCode: 2, wantErr: "--new-ca needs --force"},
		{name: "stray argument", args: []string{"--out-dir", dir, "oops"}, wantCode: 2, wantErr: "unexpected arguments"},
		{name: "bad key type", args: []string{"--out-dir", dir, "--key-type", "dsa"}, wantCode: 2, wantErr: "key type"},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "usage: stickyguard certs"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := runCertsCmd(t, s.args...)
			assert.Equal(t, s.wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, s.wantOut)
			assert.Contains(t, errOut, s.wantErr)
			assert.NotContains(t, out+errOut, "PRIVATE KEY", "private keys are never printed")
		})
	}

	b, err := os.ReadFile(patched)
	require.NoError(t, err)
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "caBundle: "+base64.StdEncoding.EncodeToString(ca))
}
