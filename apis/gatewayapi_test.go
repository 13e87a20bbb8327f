package apis

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// crdExcerpt decodes one of testdata/gateway/crds (excerpts of the real
// CRDs of sigs.k8s.io/gateway-api: annotations and the sessionPersistence
// schema) as the engine decodes a CRD.
func crdExcerpt(t *testing.T, name string) *CRD {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "gateway", "crds", name))
	require.NoError(t, err)
	js, err := yaml.YAMLToJSON(raw)
	require.NoError(t, err)
	obj, err := Decode("apiextensions.k8s.io/v1", KindCustomResourceDefinition, js)
	require.NoError(t, err)
	return obj.(*CRD)
}

func TestCRDBundle(t *testing.T) {
	cases := []struct {
		file        string
		version     string
		channel     string
		shape       PersistenceShape
		idleTimeout bool
	}{
		{"httproutes-v1.7.0-experimental.yaml", "v1.7.0", ChannelExperimental, ShapeV2, false},
		{"httproutes-v1.7.0-standard.yaml", "v1.7.0", ChannelStandard, ShapeNone, false},
		{"httproutes-v1.6.3-experimental.yaml", "v1.6.3", ChannelExperimental, ShapeV1, false},
		{"httproutes-v1.5.1-experimental.yaml", "v1.5.1", ChannelExperimental, ShapeV1, true},
		{"grpcroutes-v1.1.0-experimental.yaml", "v1.1.0", ChannelExperimental, ShapeV1, true},
		{"xbackendtrafficpolicies-v1.7.0-experimental.yaml", "v1.7.0", ChannelExperimental, ShapeV2, false},
		{"backendlbpolicies-v1.2.0-experimental.yaml", "v1.2.0", ChannelExperimental, ShapeV1, true},
	}
	for _, tt := range cases {
		t.Run(tt.file, func(t *testing.T) {
			crd := crdExcerpt(t, tt.file)
			b := crd.Bundle()
			assert.Equal(t, tt.version, b.Version)
			assert.Equal(t, tt.channel, b.Channel)
			assert.Equal(t, tt.shape, b.Shape)
			assert.Equal(t, tt.idleTimeout, b.IdleTimeout)
			assert.Equal(t, "CRD "+crd.Name, b.Source)
			assert.True(t, b.Known())

			// The annotations alone (a metadata-only read) say the same.
			fromAnn := BundleFor(tt.version, tt.channel, "x")
			assert.Equal(t, b.Shape, fromAnn.Shape, "BundleFor disagrees with the schema")
			assert.Equal(t, b.IdleTimeout, fromAnn.IdleTimeout, "BundleFor disagrees with the schema")
		})
	}
}

func TestCRDBundleSchemaWinsOverVersion(t *testing.T) {
	// A build of main says v0.0.0-dev: only the schema tells the shape.
	crd := crdExcerpt(t, "httproutes-v1.7.0-experimental.yaml")
	crd.Annotations[AnnBundleVersion] = "v0.0.0-dev"
	assert.Equal(t, ShapeV2, crd.Bundle().Shape)

	// Metadata only (no schema): derived from the annotations.
	crd.Spec.Versions = nil
	assert.Equal(t, ShapeUnknown, crd.Bundle().Shape)
	crd.Annotations[AnnBundleVersion] = "v1.6.3"
	assert.Equal(t, ShapeV1, crd.Bundle().Shape)
	delete(crd.Annotations, AnnChannel)
	assert.Equal(t, ShapeUnknown, crd.Bundle().Shape, "the channel decides whether the field exists")

	// A CRD of another kind says only what its annotations say.
	gw := &CRD{Spec: CRDSpec{Names: CRDNames{Kind: KindGateway}}}
	gw.Annotations = map[string]string{AnnBundleVersion: "v1.5.0", AnnChannel: ChannelExperimental}
	b := gw.Bundle()
	assert.Equal(t, ShapeV1, b.Shape)
	assert.True(t, b.IdleTimeout)
}

func TestBundleFor(t *testing.T) {
	cases := []struct {
		version, channel string
		shape            PersistenceShape
		idle             bool
	}{
		{"v1.0.0", ChannelExperimental, ShapeNone, false},
		{"v1.1.0", ChannelExperimental, ShapeV1, true},
		{"v1.5.1", "", ShapeUnknown, false},
		{"v1.5.1", ChannelExperimental, ShapeV1, true},
		{"v1.6.0", ChannelExperimental, ShapeV1, false},
		{"v1.6.3", ChannelStandard, ShapeNone, false},
		{"v1.7.0", ChannelExperimental, ShapeV2, false},
		{"v1.7.0-rc.1", ChannelExperimental, ShapeV2, false},
		{"v1.8.2", ChannelExperimental, ShapeUnknown, false},
		{"v0.0.0-dev", ChannelExperimental, ShapeUnknown, false},
		{"", ChannelExperimental, ShapeUnknown, false},
		{"", ChannelStandard, ShapeNone, false},
		{"1.6.3", ChannelExperimental, ShapeUnknown, false},
	}
	for _, tt := range cases {
		b := BundleFor(tt.version, tt.channel, "policy")
		assert.Equal(t, tt.shape, b.Shape, "%s/%s", tt.version, tt.channel)
		assert.Equal(t, tt.idle, b.IdleTimeout, "%s/%s", tt.version, tt.channel)
	}
	assert.False(t, GatewayBundle{}.Known())
}

func TestExperimentalShape(t *testing.T) {
	for v, want := range map[string]PersistenceShape{"v1.0.1": ShapeNone, "v1.1.0": ShapeV1, "v1.6.3": ShapeV1, "v1.7.0": ShapeV2, "v1.7.2": ShapeV2} {
		got, _, ok := ExperimentalShape(v)
		assert.True(t, ok, v)
		assert.Equal(t, want, got, v)
	}
	for _, v := range []string{"v1.8.0", "v2.0.0", "v0.0.0-dev", ""} {
		_, _, ok := ExperimentalShape(v)
		assert.False(t, ok, v)
	}
}

func TestBundleVersionCompare(t *testing.T) {
	b := GatewayBundle{Version: "v1.6.3"}
	assert.True(t, b.AtLeast(1, 6, 0))
	assert.True(t, b.AtLeast(1, 6, 3))
	assert.False(t, b.AtLeast(1, 7, 0))
	assert.True(t, b.Before(1, 7, 0))
	assert.False(t, b.Before(1, 6, 3))
	// Unknown versions are neither before nor after anything.
	for _, v := range []string{"", "v0.0.0-dev", "main", "v1.x.0", "v01.6.0"} {
		u := GatewayBundle{Version: v}
		assert.False(t, u.AtLeast(0, 0, 0), v)
		assert.False(t, u.Before(9, 0, 0), v)
	}
}

func TestParseGatewayDuration(t *testing.T) {
	valid := map[string]time.Duration{
		"0s":     0,
		"1h":     time.Hour,
		"01h":    time.Hour,
		"1h30m":  90 * time.Minute,
		"500ms":  500 * time.Millisecond,
		"99999h": 99999 * time.Hour,
		"1h1m1s": time.Hour + time.Minute + time.Second,
		"1s1s":   2 * time.Second,
		"10s":    10 * time.Second,
	}
	for s, want := range valid {
		got, err := ParseGatewayDuration(s)
		if assert.NoError(t, err, s) {
			assert.Equal(t, want, got, s)
		}
	}
	// The GEP-2257 invalid examples, and what time.ParseDuration alone accepts.
	for _, s := range []string{"", "0", "1", "1m1", "1d", "1h30m10s20ms50h", "999999h", "1.5h", "-15m", "1us", "1H", " 1h", "1h "} {
		_, err := ParseGatewayDuration(s)
		assert.Error(t, err, s)
	}
}

func TestSessionPersistenceKeys(t *testing.T) {
	s := func(v string) *string { return &v }
	assert.False(t, (*SessionPersistence)(nil).HasV1Keys())
	assert.False(t, (*SessionPersistence)(nil).HasV2Keys())
	assert.False(t, (&SessionPersistence{Type: s("Cookie"), AbsoluteTimeout: s("1h")}).HasV1Keys())
	assert.True(t, (&SessionPersistence{SessionName: s("a")}).HasV1Keys())
	assert.True(t, (&SessionPersistence{IdleTimeout: s("1h")}).HasV1Keys())
	assert.True(t, (&SessionPersistence{CookieConfig: &CookieConfig{}}).HasV1Keys())
	assert.True(t, (&SessionPersistence{Cookie: &Cookie{}}).HasV2Keys())
	assert.True(t, (&SessionPersistence{Header: &HeaderConfig{}}).HasV2Keys())
	assert.False(t, (&SessionPersistence{SessionName: s("a")}).HasV2Keys())
}
