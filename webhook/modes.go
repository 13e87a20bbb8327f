package webhook

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

// Mode is how stickyguard treats the objects of one namespace.
type Mode string

// Modes. Off is never a label value: it is what a missing or unknown value
// means.
const (
	// ModeEnforce denies violations, returns warnings and applies defaults.
	ModeEnforce Mode = "enforce"
	// ModeAudit allows everything, patches nothing, and reports what enforce
	// would have done as warnings, audit annotations and metrics.
	ModeAudit Mode = "audit"
	// ModeOff means the namespace has not opted in.
	ModeOff Mode = "off"
)

// ParseMode maps a label value to a mode; ok is false for values that are
// neither enforce nor audit (then the mode is ModeOff).
func ParseMode(label string) (m Mode, ok bool) {
	switch Mode(label) {
	case ModeEnforce:
		return ModeEnforce, true
	case ModeAudit:
		return ModeAudit, true
	}
	return ModeOff, false
}

// ModeSource reads the stickyguard.io/mode label of a namespace. found is
// false when the namespace has no such label (or does not exist); an error
// means the answer is unknown and the review fails with 500.
type ModeSource interface {
	ModeLabel(ctx context.Context, namespace string) (value string, found bool, err error)
}

// resolveMode applies the label and the --force-audit override. note is a
// warning for the user when the namespace is not (properly) opted in.
func resolveMode(label string, found, forceAudit bool, namespace string) (m Mode, note string) {
	if !found {
		return ModeOff, fmt.Sprintf("stickyguard: namespace %q has no %s label (enforce or audit); nothing was checked", namespace, sticky.LabelMode)
	}
	m, ok := ParseMode(label)
	if !ok {
		return ModeOff, fmt.Sprintf("stickyguard: namespace %q has %s=%q, which is neither enforce nor audit; nothing was checked", namespace, sticky.LabelMode, label)
	}
	if m == ModeEnforce && forceAudit {
		m = ModeAudit
	}
	return m, ""
}

// nsGetTimeout bounds the fallback GET of a namespace in the request path.
const nsGetTimeout = 2 * time.Second

// CacheModes reads namespace labels from the informer cache. When the cache
// has not synced yet, or does not hold the namespace yet (it was created a
// moment ago), it falls back to a single GET through the API reader. It
// never lists.
type CacheModes struct {
	Cache  client.Reader
	API    client.Reader
	Synced func() bool
}

// ModeLabel implements ModeSource.
func (c *CacheModes) ModeLabel(ctx context.Context, namespace string) (string, bool, error) {
	if namespace == "" {
		return "", false, nil
	}
	var ns corev1.Namespace
	key := client.ObjectKey{Name: namespace}
	if c.Synced == nil || c.Synced() {
		err := c.Cache.Get(ctx, key, &ns, client.UnsafeDisableDeepCopy)
		if err == nil {
			v, ok := ns.Labels[sticky.LabelMode]
			return v, ok, nil
		}
		if !apierrors.IsNotFound(err) {
			return "", false, fmt.Errorf("reading namespace %s from the cache: %w", namespace, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, nsGetTimeout)
	defer cancel()
	if err := c.API.Get(ctx, key, &ns); err != nil {
		if apierrors.IsNotFound(err) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("getting namespace %s: %w", namespace, err)
	}
	v, ok := ns.Labels[sticky.LabelMode]
	return v, ok, nil
}
