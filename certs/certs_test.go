package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// opts returns default options on a fixed clock, changed by mods.
func opts(mods ...func(*Options)) Options {
	o := DefaultOptions()
	o.Now = func() time.Time { return t0 }
	for _, m := range mods {
		m(&o)
	}
	return o
}

func at(t time.Time) func(*Options) {
	return func(o *Options) { o.Now = func() time.Time { return t } }
}

func TestGenerateValidityAndSANs(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		wantDNS   []string
		wantIPs   []string
		leafFor   time.Duration
		caFor     time.Duration
		keyIsRSA  bool
		wantError string
	}{
		{
			name:    "defaults",
			opts:    opts(),
			wantDNS: []string{"stickyguard-webhook.stickyguard-system.svc", "stickyguard-webhook.stickyguard-system.svc.cluster.local", "stickyguard-webhook", "stickyguard-webhook.stickyguard-system", "localhost"},
			wantIPs: []string{"127.0.0.1"},
			leafFor: DefaultLeafValidity, caFor: DefaultCAValidity,
		},
		{
			name:    "other service and namespace, no extra hosts",
			opts:    opts(func(o *Options) { o.Service, o.Namespace, o.Hosts = "sg", "infra", nil }),
			wantDNS: []string{"sg.infra.svc", "sg.infra.svc.cluster.local", "sg", "sg.infra"},
			leafFor: DefaultLeafValidity, caFor: DefaultCAValidity,
		},
		{
			name:    "extra hosts deduplicated",
			opts:    opts(func(o *Options) { o.Hosts = []string{"127.0.0.1", "::1", "webhook.example.com", "127.0.0.1"} }),
			wantDNS: []string{"stickyguard-webhook.stickyguard-system.svc", "stickyguard-webhook.stickyguard-system.svc.cluster.local", "stickyguard-webhook", "stickyguard-webhook.stickyguard-system", "webhook.example.com"},
			wantIPs: []string{"127.0.0.1", "::1"},
			leafFor: DefaultLeafValidity, caFor: DefaultCAValidity,
		},
		{
			name:    "rsa and custom validity",
			opts:    opts(func(o *Options) { o.KeyType, o.LeafValidity, o.CAValidity = RSA, 48*time.Hour, 96*time.Hour }),
			wantDNS: []string{"stickyguard-webhook.stickyguard-system.svc", "stickyguard-webhook.stickyguard-system.svc.cluster.local", "stickyguard-webhook", "stickyguard-webhook.stickyguard-system", "localhost"},
			wantIPs: []string{"127.0.0.1"},
			leafFor: 48 * time.Hour, caFor: 96 * time.Hour, keyIsRSA: true,
		},
		{name: "leaf outliving the CA", opts: opts(func(o *Options) { o.CAValidity = time.Hour }), wantError: "exceeds the CA"},
		{name: "bad key type", opts: opts(func(o *Options) { o.KeyType = "dsa" }), wantError: "key type"},
		{name: "empty namespace", opts: opts(func(o *Options) { o.Namespace = "" }), wantError: "namespace"},
		{name: "bad host", opts: opts(func(o *Options) { o.Hosts = []string{"a b"} }), wantError: "invalid host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := Generate(dir, tc.opts, GenerateOptions{})
			if tc.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantError)
				assert.Empty(t, existingFiles(dir), "nothing is written on error")
				return
			}
			require.NoError(t, err)
			ca, leaf := res.CA.Cert, res.Leaf.Cert

			assert.True(t, ca.IsCA)
			assert.True(t, ca.MaxPathLenZero)
			assert.Equal(t, t0.Add(tc.caFor), ca.NotAfter)
			assert.Equal(t, t0.Add(-clockSkew), ca.NotBefore)

			assert.False(t, leaf.IsCA)
			assert.Equal(t, t0.Add(tc.leafFor), leaf.NotAfter)
			assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
			assert.Equal(t, tc.wantDNS, leaf.DNSNames)
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			assert.Equal(t, tc.wantIPs, ips)
			require.NoError(t, Verify(leaf, ca, tc.opts, t0))

			if tc.keyIsRSA {
				k, ok := res.Leaf.Key.(*rsa.PrivateKey)
				require.True(t, ok)
				assert.Equal(t, 2048, k.N.BitLen())
			} else {
				k, ok := res.Leaf.Key.(*ecdsa.PrivateKey)
				require.True(t, ok)
				assert.Equal(t, "P-256", k.Curve.Params().Name)
			}

			// The files on disk form a usable TLS pair, keys are private.
			_, err = tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
			require.NoError(t, err)
			for name, perm := range map[string]os.FileMode{CertFile: 0o644, KeyFile: 0o600, CAFile: 0o644, CAKeyFile: 0o600} {
				fi, err := os.Stat(filepath.Join(dir, name))
				require.NoError(t, err, name)
				assert.Equal(t, perm, fi.Mode().Perm(), name)
			}
		})
	}
}

func TestGenerateOverwrite(t *testing.T) {
	tests := []struct {
		name       string
		existing   []string // files present before
		gen        GenerateOptions
		wantErr    bool
		wantSameCA bool
	}{
		{name: "empty dir", gen: GenerateOptions{}},
		{name: "refuses without force", existing: []string{"all"}, gen: GenerateOptions{}, wantErr: true},
		{name: "refuses when only tls.key exists", existing: []string{KeyFile}, gen: GenerateOptions{}, wantErr: true},
		{name: "force keeps a valid CA", existing: []string{"all"}, gen: GenerateOptions{Force: true}, wantSameCA: true},
		{name: "force with new CA", existing: []string{"all"}, gen: GenerateOptions{Force: true, NewCA: true}},
		{name: "force without a CA key makes a new CA", existing: []string{CertFile, KeyFile, CAFile}, gen: GenerateOptions{Force: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var before *Result
			if len(tc.existing) > 0 {
				var err error
				before, err = Generate(dir, opts(), GenerateOptions{})
				require.NoError(t, err)
				if tc.existing[0] != "all" {
					keep := map[string]bool{}
					for _, n := range tc.existing {
						keep[n] = true
					}
					for _, n := range []string{CertFile, KeyFile, CAFile, CAKeyFile} {
						if !keep[n] {
							require.NoError(t, os.Remove(filepath.Join(dir, n)))
						}
					}
				}
			}
			snapshot := readAll(t, dir)
			res, err := Generate(dir, opts(), tc.gen)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrExists)
				assert.Equal(t, snapshot, readAll(t, dir), "files must be untouched")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantSameCA, res.CAReused)
			if before != nil {
				assert.NotEqual(t, before.Leaf.CertPEM, res.Leaf.CertPEM, "a new serving certificate")
				assert.Equal(t, tc.wantSameCA, string(before.CA.CertPEM) == string(res.CA.CertPEM))
			}
			ca, err := CABundle(dir)
			require.NoError(t, err)
			caCert, err := ParseCertificate(ca)
			require.NoError(t, err)
			require.NoError(t, Verify(res.Leaf.Cert, caCert, opts(), t0), "ca.crt on disk signs tls.crt")
		})
	}
}

func readAll(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range []string{CertFile, KeyFile, CAFile, CAKeyFile} {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			out[n] = string(b)
		}
	}
	return out
}

func TestCheckAndRenew(t *testing.T) {
	leafExpiry := t0.Add(DefaultLeafValidity)
	tests := []struct {
		name        string
		now         time.Time
		mods        []func(*Options) // options at check time (on top of the clock)
		renewBefore time.Duration
		wantRenew   bool
		wantReason  string
		wantErr     string
	}{
		{name: "fresh", now: t0, renewBefore: DefaultRenewBefore},
		{name: "31 days left", now: leafExpiry.Add(-31 * 24 * time.Hour), renewBefore: DefaultRenewBefore},
		{name: "29 days left", now: leafExpiry.Add(-29 * 24 * time.Hour), renewBefore: DefaultRenewBefore, wantRenew: true, wantReason: "within the renewal window"},
		{name: "expired", now: leafExpiry.Add(time.Hour), renewBefore: DefaultRenewBefore, wantRenew: true, wantReason: "expired"},
		{name: "names changed", now: t0, renewBefore: DefaultRenewBefore, mods: []func(*Options){func(o *Options) { o.Hosts = []string{"10.0.0.1"} }}, wantRenew: true, wantReason: "does not verify"},
		{name: "CA expiring", now: t0.Add(DefaultCAValidity - 10*24*time.Hour), renewBefore: DefaultRenewBefore, wantRenew: true, wantReason: "expired", wantErr: "make a new CA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			gen, err := Generate(dir, opts(), GenerateOptions{})
			require.NoError(t, err)
			o := opts(append([]func(*Options){at(tc.now)}, tc.mods...)...)

			st, err := Check(dir, o, tc.renewBefore)
			require.NoError(t, err)
			assert.Equal(t, tc.wantRenew, st.NeedsRenewal, st.Reason)
			assert.Contains(t, st.Reason, tc.wantReason)
			assert.Equal(t, leafExpiry, st.LeafNotAfter)

			st, renewed, err := Renew(dir, o, tc.renewBefore)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.True(t, st.CAExpiring)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantRenew, renewed)
			leaf, err := LoadLeaf(dir)
			require.NoError(t, err)
			if !tc.wantRenew {
				assert.Equal(t, gen.Leaf.CertPEM, leaf.CertPEM, "untouched")
				return
			}
			assert.NotEqual(t, gen.Leaf.CertPEM, leaf.CertPEM)
			assert.Equal(t, tc.now.Add(DefaultLeafValidity), leaf.Cert.NotAfter)
			ca, err := LoadCA(dir)
			require.NoError(t, err)
			assert.Equal(t, gen.CA.CertPEM, ca.CertPEM, "the CA is reused")
			require.NoError(t, Verify(leaf.Cert, ca.Cert, o, tc.now))
			// Renewing again right away does nothing.
			_, again, err := Renew(dir, o, tc.renewBefore)
			require.NoError(t, err)
			assert.False(t, again)
		})
	}
}

func TestRenewNeedsCAKey(t *testing.T) {
	dir := t.TempDir()
	_, err := Generate(dir, opts(), GenerateOptions{})
	require.NoError(t, err)
	require.NoError(t, os.Remove(filepath.Join(dir, CAKeyFile)))
	_, renewed, err := Renew(dir, opts(at(t0.Add(DefaultLeafValidity))), DefaultRenewBefore)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CA key")
	assert.False(t, renewed)
}

func TestNewServingNeverOutlivesCA(t *testing.T) {
	o := opts(func(o *Options) { o.CAValidity = 100 * time.Hour; o.LeafValidity = 50 * time.Hour })
	ca, err := NewCA(o)
	require.NoError(t, err)
	leaf, err := NewServing(ca, opts(at(t0.Add(80*time.Hour)), func(o *Options) { o.LeafValidity = 50 * time.Hour }))
	require.NoError(t, err)
	assert.Equal(t, ca.Cert.NotAfter, leaf.Cert.NotAfter)
}

func TestParseKeyPairMismatch(t *testing.T) {
	a, err := NewCA(opts())
	require.NoError(t, err)
	b, err := NewCA(opts())
	require.NoError(t, err)
	_, err = ParseKeyPair(a.CertPEM, b.KeyPEM)
	require.Error(t, err)
	_, err = ParseKeyPair(a.CertPEM, a.KeyPEM)
	require.NoError(t, err)
}
