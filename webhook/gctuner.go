package webhook

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/go-logr/logr"
)

// GCTuner keeps the garbage collector from running more often than the
// heap's size calls for. With the default GOGC=100 the next collection
// starts when the heap has grown by as much as is live; a webhook in a
// small cluster has a few MiB live and allocates several KiB per review, so
// at thousands of reviews per second it collects dozens of times a second
// (up to a fifth of its CPU in the direct load benchmark). The tuner raises GOGC so
// that at least Headroom bytes may be allocated between collections, and
// lowers it back to the base value (GOGC from the environment, else 100) as
// the live heap grows: memory then grows by at most Headroom over what
// GOGC=100 would use, and a large cluster gets the Go defaults. A memory
// limit (GOMEMLIMIT) still applies on top. GOGC=off in the environment
// turns the tuner off.
type GCTuner struct {
	Headroom uint64        // bytes allowed between collections at least
	Every    time.Duration // how often the live heap is read; 0 means 1s
	Log      logr.Logger

	base int // GC percent to fall back to
}

// gcMaxPercent bounds GOGC when the live heap is tiny (a test process).
const gcMaxPercent = 5000

// gcPercentFor is the GOGC that allows headroom bytes of allocation above a
// live heap of live bytes, never below base and never above gcMaxPercent.
func gcPercentFor(live, headroom uint64, base int) int {
	if live == 0 {
		live = 1
	}
	p := int(math.Ceil(float64(headroom) * 100 / float64(live)))
	return max(base, min(p, gcMaxPercent))
}

// baseGCPercent is the GOGC the process was started with; ok is false when
// GOGC=off (nothing to tune).
func baseGCPercent() (int, bool) {
	v := os.Getenv("GOGC")
	if v == "off" {
		return 0, false
	}
	old := gcPercent()
	if old < 0 {
		return 0, false
	}
	return old, true
}

// gcPercent reads the current GOGC without changing it (-1 when off).
// Reading through runtime/metrics matters: the old idiom of setting a value
// and putting the previous one back leaves a window in which another reader
// sees the temporary value.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 100
	}
	v := s[0].Value.Uint64()
	if v > math.MaxInt32 {
		return -1
	}
	return int(v)
}

// liveHeap is the heap marked live by the last collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// tune sets GOGC for the current live heap and returns it.
func (t *GCTuner) tune() int {
	p := gcPercentFor(liveHeap(), t.Headroom, t.base)
	debug.SetGCPercent(p)
	return p
}

// Start runs the tuner until ctx ends, then restores the base GOGC. It
// implements manager.Runnable; with Headroom 0 or GOGC=off it does nothing.
func (t *GCTuner) Start(ctx context.Context) error {
	base, ok := baseGCPercent()
	if !ok || t.Headroom == 0 {
		return nil
	}
	t.base = base
	every := t.Every
	if every <= 0 {
		every = time.Second
	}
	last := t.tune()
	t.Log.V(1).Info("GC tuner on", "headroomBytes", t.Headroom, "baseGOGC", base, "GOGC", last)
	tick := time.NewTicker(every)
	defer tick.Stop()
	defer debug.SetGCPercent(base)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if p := t.tune(); p != last {
				t.Log.V(2).Info("GOGC changed", "GOGC", p, "liveHeapBytes", liveHeap())
				last = p
			}
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// replica tunes its own collector.
func (t *GCTuner) NeedLeaderElection() bool { return false }
