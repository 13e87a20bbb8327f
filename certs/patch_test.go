package certs

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

const webhookYAML = `# webhook configurations
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: stickyguard
webhooks:
  - name: mservice.stickyguard.io # keep this comment
    clientConfig:
      service: {name: stickyguard-webhook, namespace: stickyguard-system, path: /mutate--v1-service, port: 443}
    sideEffects: None
  - name: mdeployment.stickyguard.io
    clientConfig:
      caBundle: b2xk
      service: {name: stickyguard-webhook, namespace: stickyguard-system, path: /mutate-apps-v1-deployment}
    sideEffects: None
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: untouched
data:
  caBundle: keep
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: stickyguard
webhooks:
  - name: vservice.stickyguard.io
    sideEffects: None
`

func TestPatchCABundle(t *testing.T) {
	ca, err := NewCA(opts())
	require.NoError(t, err)
	want := base64.StdEncoding.EncodeToString(ca.CertPEM)

	tests := []struct {
		name      string
		in        string
		wantHooks int
		wantErr   string
	}{
		{name: "mutating, other kinds and validating", in: webhookYAML, wantHooks: 3},
		{name: "no webhook configurations", in: "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", wantHooks: 0},
		{name: "empty documents kept", in: "---\n---\n" + webhookYAML, wantHooks: 3},
		{name: "webhooks not a list", in: "kind: ValidatingWebhookConfiguration\nwebhooks: {}\n", wantErr: "no webhooks list"},
		{name: "not YAML", in: "kind: [", wantErr: "document 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, n, err := PatchCABundle([]byte(tc.in), ca.CertPEM)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantHooks, n)
			s := string(out)
			assert.NotContains(t, s, "PRIVATE KEY")
			if tc.wantHooks == 0 {
				return
			}
			assert.Contains(t, s, "# keep this comment")
			assert.Contains(t, s, "caBundle: keep", "other kinds untouched")
			docs := strings.Split(s, "\n---\n")
			var seen int
			for _, d := range docs {
				switch {
				case strings.Contains(d, "kind: MutatingWebhookConfiguration"):
					var m admissionregistrationv1.MutatingWebhookConfiguration
					require.NoError(t, yaml.UnmarshalStrict([]byte(d), &m))
					for _, h := range m.Webhooks {
						assert.Equal(t, want, base64.StdEncoding.EncodeToString(h.ClientConfig.CABundle), h.Name)
						assert.NotNil(t, h.ClientConfig.Service, "the service block stays")
						seen++
					}
				case strings.Contains(d, "kind: ValidatingWebhookConfiguration"):
					var v admissionregistrationv1.ValidatingWebhookConfiguration
					require.NoError(t, yaml.UnmarshalStrict([]byte(d), &v))
					for _, h := range v.Webhooks {
						assert.Equal(t, want, base64.StdEncoding.EncodeToString(h.ClientConfig.CABundle), h.Name)
						seen++
					}
				}
			}
			assert.Equal(t, tc.wantHooks, seen)
		})
	}
}

func TestPatchCABundleRejectsNonCertificate(t *testing.T) {
	ca, err := NewCA(opts())
	require.NoError(t, err)
	_, _, err = PatchCABundle([]byte(webhookYAML), ca.KeyPEM)
	require.Error(t, err)
}

func TestPatchURL(t *testing.T) {
	ca, err := NewCA(opts())
	require.NoError(t, err)
	tests := []struct {
		name    string
		url     string
		want    []string // urls in order of the webhooks
		wantErr string
	}{
		{name: "service blocks become URLs", url: "https://127.0.0.1:19443", want: []string{"https://127.0.0.1:19443/mutate--v1-service", "https://127.0.0.1:19443/mutate-apps-v1-deployment"}},
		{name: "trailing slash", url: "https://127.0.0.1:19443/", want: []string{"https://127.0.0.1:19443/mutate--v1-service", "https://127.0.0.1:19443/mutate-apps-v1-deployment"}},
		{name: "plain http refused", url: "http://127.0.0.1:1", wantErr: "must be https"},
		{name: "path refused", url: "https://127.0.0.1:1/x", wantErr: "without a path"},
	}
	in := strings.SplitN(webhookYAML, "\n---\n", 2)[0]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, n, err := Patch([]byte(in), PatchOptions{CABundle: ca.CertPEM, URL: tc.url})
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			var m admissionregistrationv1.MutatingWebhookConfiguration
			require.NoError(t, yaml.UnmarshalStrict(out, &m))
			var got []string
			for _, h := range m.Webhooks {
				assert.Nil(t, h.ClientConfig.Service)
				require.NotNil(t, h.ClientConfig.URL)
				got = append(got, *h.ClientConfig.URL)
				assert.Equal(t, string(ca.CertPEM), string(h.ClientConfig.CABundle))
			}
			assert.Equal(t, tc.want, got)
		})
	}
	// A webhook without a service cannot be turned into a URL.
	_, _, err = Patch([]byte("kind: ValidatingWebhookConfiguration\nwebhooks:\n- name: a\n  clientConfig: {url: https://x}\n"), PatchOptions{CABundle: ca.CertPEM, URL: "https://127.0.0.1:1"})
	require.Error(t, err)
}
