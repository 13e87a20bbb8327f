package main

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stickyguard/stickyguard/webhook"
)

func noEnv(string) string { return "" }

func TestServeFlagDefaults(t *testing.T) {
	o, err := parseServeFlags(nil, &bytes.Buffer{}, noEnv)
	require.NoError(t, err)
	s := o.server
	assert.Equal(t, 9443, s.Port)
	assert.Equal(t, "0.0.0.0", s.Host)
	assert.Equal(t, ":8080", s.MetricsBindAddress)
	assert.Equal(t, ":8081", s.HealthProbeBindAddress)
	assert.Equal(t, "", s.PolicyFile)
	assert.False(t, s.ForceAudit)
	assert.False(t, s.EnableHTTP2)
	assert.EqualValues(t, webhook.DefaultMaxRequestBytes, s.MaxRequestBytes)
	assert.Equal(t, 5*time.Second, s.ShutdownDelay)
	assert.Equal(t, 15*time.Second, s.GracefulShutdownTimeout)
	assert.EqualValues(t, 32<<20, s.GCHeadroom)
	assert.Equal(t, "0", s.PprofBindAddress)
}

func TestServeGCHeadroomFlag(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "32Mi": 32 << 20, "100M": 100e6, "1048576": 1 << 20} {
		o, err := parseServeFlags(nil, &bytes.Buffer{}, func(k string) string {
			return map[string]string{"STICKYGUARD_GC_HEADROOM": in}[k]
		})
		require.NoError(t, err, in)
		assert.Equal(t, want, o.server.GCHeadroom, in)
	}
	for _, bad := range []string{"-1Mi", "lots", "2Ti", "0.5"} {
		_, err := parseServeFlags([]string{"--gc-headroom", bad}, &bytes.Buffer{}, noEnv)
		assert.Error(t, err, bad)
	}
}

func TestServeFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{
		"STICKYGUARD_FORCE_AUDIT": "true",
		"STICKYGUARD_POLICY":      "/etc/policy.yaml",
		"STICKYGUARD_PORT":        "1111", // the flag wins
		"STICKYGUARD_ZAP_DEVEL":   "true",
	}
	o, err := parseServeFlags([]string{"--port", "2222", "--bind-address=127.0.0.1", "--enable-http2", "--metrics-bind-address", "0"},
		&bytes.Buffer{}, func(k string) string { return env[k] })
	require.NoError(t, err)
	assert.Equal(t, 2222, o.server.Port)
	assert.Equal(t, "127.0.0.1", o.server.Host)
	assert.True(t, o.server.EnableHTTP2)
	assert.Equal(t, "0", o.server.MetricsBindAddress)
	assert.True(t, o.server.ForceAudit)
	assert.Equal(t, "/etc/policy.yaml", o.server.PolicyFile)
	assert.True(t, o.zap.Development)
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{args: []string{"--port", "0"}},
		{args: []string{"--max-request-bytes", "10"}},
		{args: []string{"extra"}},
		{args: []string{"--no-such-flag"}},
		{env: map[string]string{"STICKYGUARD_FORCE_AUDIT": "maybe"}},
	} {
		_, err := parseServeFlags(tc.args, &bytes.Buffer{}, func(k string) string { return tc.env[k] })
		assert.Error(t, err, "%v %v", tc.args, tc.env)
	}
	var out bytes.Buffer
	_, err := parseServeFlags([]string{"-h"}, &out, noEnv)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "STICKYGUARD_<FLAG>")
	assert.Contains(t, out.String(), "-force-audit")
	assert.Equal(t, 2, runServe([]string{"--port", "-1"}, nil, &bytes.Buffer{}, &bytes.Buffer{}))
}

func TestServeAuditIntervalFlag(t *testing.T) {
	for _, bad := range []string{"10s", "-1m"} {
		code, _, stderr := runCmd(t, "", "serve", "--audit-interval", bad)
		assert.Equal(t, exitError, code, bad)
		assert.Contains(t, stderr, "--audit-interval", bad)
	}
}
