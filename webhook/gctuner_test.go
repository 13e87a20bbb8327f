package webhook

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGCPercentFor(t *testing.T) {
	const mi = 1 << 20
	cases := []struct {
		live, headroom uint64
		base, want     int
	}{
		{live: 8 * mi, headroom: 64 * mi, base: 100, want: 800},     // small heap: 64 MiB between collections
		{live: 64 * mi, headroom: 64 * mi, base: 100, want: 100},    // the default already gives the headroom
		{live: 500 * mi, headroom: 64 * mi, base: 100, want: 100},   // large heap: never below the base
		{live: 500 * mi, headroom: 64 * mi, base: 150, want: 150},   // GOGC=150 from the environment is the floor
		{live: 10 * mi, headroom: 64 * mi, base: 100, want: 640},    // rounds up
		{live: 1, headroom: 64 * mi, base: 100, want: gcMaxPercent}, // bounded
		{live: 0, headroom: 64 * mi, base: 100, want: gcMaxPercent}, // before the first collection
		{live: 8 * mi, headroom: 0, base: 100, want: 100},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, gcPercentFor(c.live, c.headroom, c.base), "live=%d headroom=%d base=%d", c.live, c.headroom, c.base)
	}
}

// The tuner raises GOGC while it runs (this test process has a small live
// heap) and restores the base value when it stops.
func TestGCTunerRaisesAndRestoresGOGC(t *testing.T) {
	t.Setenv("GOGC", "")
	base := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(base) })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&GCTuner{Headroom: 256 << 20, Every: 10 * time.Millisecond}).Start(ctx) }()
	require.Eventually(t, func() bool {
		return gcPercent() > 100
	}, 5*time.Second, 5*time.Millisecond, "GOGC raised for a small live heap")
	cancel()
	require.NoError(t, <-done)
	p := debug.SetGCPercent(100)
	assert.Equal(t, 100, p, "GOGC restored on stop")
}

// With GOGC=off or no headroom the tuner leaves the collector alone.
func TestGCPercentReadsWithoutChanging(t *testing.T) {
	base := debug.SetGCPercent(250)
	t.Cleanup(func() { debug.SetGCPercent(base) })
	assert.Equal(t, 250, gcPercent())
	debug.SetGCPercent(-1)
	assert.Equal(t, -1, gcPercent())
	debug.SetGCPercent(100)
	assert.Equal(t, 100, gcPercent())
}

func TestGCTunerOff(t *testing.T) {
	base := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(base) })
	for _, tc := range []struct {
		name, gogc string
		headroom   uint64
	}{{"no headroom", "", 0}, {"GOGC=off", "off", 64 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			require.NoError(t, (&GCTuner{Headroom: tc.headroom, Every: time.Millisecond}).Start(ctx))
			p := debug.SetGCPercent(100)
			assert.Equal(t, 100, p)
		})
	}
}
