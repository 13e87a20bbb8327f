package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"

	"github.com/stickyguard/stickyguard/policy"
	"github.com/stickyguard/stickyguard/validators"
)

// DefaultPolicyPollInterval is how often PolicyFile re-reads the file even
// without a file-system event (events are missed on some volumes).
const DefaultPolicyPollInterval = 10 * time.Second

// PolicyFile is a PolicySource that follows a policy file: it reloads on
// change (fsnotify on the file's directory, which also sees ConfigMap
// symlink swaps, plus polling). An invalid new version is logged and the
// previous policy stays in force. Run it with Start (a manager Runnable).
type PolicyFile struct {
	path     string
	interval time.Duration
	log      logr.Logger

	current atomic.Pointer[policy.Policy]
	mu      sync.Mutex // guards last and lastErr
	last    []byte     // the bytes of the policy in force
	lastErr error      // why the file on disk is not in force, if it is not
}

// NewPolicyFile loads path once and returns the watcher. An invalid or
// missing file is not an error here: it is logged, and the server stays
// not ready until a valid version appears.
func NewPolicyFile(path string, interval time.Duration, log logr.Logger) *PolicyFile {
	if interval <= 0 {
		interval = DefaultPolicyPollInterval
	}
	p := &PolicyFile{path: path, interval: interval, log: log.WithValues("policy", path)}
	p.Reload()
	return p
}

// Current implements PolicySource; nil until a valid policy was loaded.
func (p *PolicyFile) Current() *policy.Policy { return p.current.Load() }

// ReadyCheck is a readiness check: ready once a valid policy was loaded
// (a later invalid version keeps the old policy and readiness).
func (p *PolicyFile) ReadyCheck(_ *http.Request) error {
	if p.current.Load() != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Errorf("no valid policy loaded from %s: %v", p.path, p.lastErr)
}

// LastError says why the file on disk is not in force (nil when it is):
// unreadable, or an invalid version that Reload rejected.
func (p *PolicyFile) LastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

// Reload reads the file and swaps the policy in when it changed and is
// valid. It reports whether a new policy is now in force.
func (p *PolicyFile) Reload() bool {
	data, err := os.ReadFile(p.path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.current.Load() != nil && bytes.Equal(data, p.last) {
		p.lastErr = nil
		return false
	}
	var pol *policy.Policy
	if err == nil {
		pol, err = policy.Parse(data, validators.KnownRule)
	}
	if err != nil {
		if p.lastErr == nil || p.lastErr.Error() != err.Error() {
			msg := "policy file is invalid; keeping the policy in force"
			if p.current.Load() == nil {
				msg = "policy file is invalid and no valid policy was loaded yet; not ready"
			}
			p.log.Error(err, msg)
		}
		p.lastErr = err
		return false
	}
	p.current.Store(pol)
	p.last = data
	p.lastErr = nil
	p.log.Info("policy loaded")
	return true
}

// Start watches the file until ctx ends.
func (p *PolicyFile) Start(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var errs <-chan error
	w, err := fsnotify.NewWatcher()
	if err == nil {
		defer w.Close()
		if err = w.Add(filepath.Dir(p.path)); err == nil {
			events, errs = w.Events, w.Errors
		}
	}
	if err != nil {
		p.log.Error(err, "cannot watch the policy file; polling only", "interval", p.interval)
	}
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			p.Reload()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if samePath(ev.Name, p.path) || filepath.Base(ev.Name) == "..data" {
				p.Reload()
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if !errors.Is(err, context.Canceled) {
				p.log.Error(err, "watching the policy file")
			}
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// replica follows its own file.
func (p *PolicyFile) NeedLeaderElection() bool { return false }

func samePath(a, b string) bool { return filepath.Clean(a) == filepath.Clean(b) }
