package certs

import (
	"fmt"
	"time"
)

// DefaultRenewBefore is how long before expiry the serving certificate is
// renewed (30 days).
const DefaultRenewBefore = 720 * time.Hour

// Status describes the certificates in a directory at a moment.
type Status struct {
	LeafNotAfter time.Time
	CANotAfter   time.Time
	// NeedsRenewal is true when the serving certificate expires within the
	// renewal window or is unusable (wrong CA, missing names, expired).
	NeedsRenewal bool
	// Reason explains NeedsRenewal.
	Reason string
	// CAExpiring is true when the CA itself expires within the window: a new
	// CA, and so a new caBundle, is needed.
	CAExpiring bool
}

// Check reports the expiry of the certificates in dir and whether the
// serving certificate needs renewing, renewBefore ahead of o's clock.
func Check(dir string, o Options, renewBefore time.Duration) (*Status, error) {
	leaf, err := LoadLeaf(dir)
	if err != nil {
		return nil, err
	}
	caPEM, err := CABundle(dir)
	if err != nil {
		return nil, err
	}
	ca, err := ParseCertificate(caPEM)
	if err != nil {
		return nil, err
	}
	now := o.now()
	st := &Status{LeafNotAfter: leaf.Cert.NotAfter, CANotAfter: ca.NotAfter}
	st.CAExpiring = !now.Add(renewBefore).Before(ca.NotAfter)
	switch {
	case !now.Before(leaf.Cert.NotAfter):
		st.NeedsRenewal, st.Reason = true, "the serving certificate has expired"
	case !now.Add(renewBefore).Before(leaf.Cert.NotAfter):
		st.NeedsRenewal = true
		st.Reason = fmt.Sprintf("the serving certificate expires in %s, within the renewal window of %s", leaf.Cert.NotAfter.Sub(now).Round(time.Minute), renewBefore)
	default:
		if err := Verify(leaf.Cert, ca, o, now); err != nil {
			st.NeedsRenewal, st.Reason = true, "the serving certificate does not verify: "+err.Error()
		}
	}
	return st, nil
}

// Renew replaces the serving certificate in dir, signed by the CA in dir,
// when Check says it needs renewal. It returns the status before renewal and
// whether it renewed. A CA that itself expires within the window is an
// error: renewing the leaf would not help, a new CA and caBundle are needed.
func Renew(dir string, o Options, renewBefore time.Duration) (*Status, bool, error) {
	st, err := Check(dir, o, renewBefore)
	if err != nil {
		return nil, false, err
	}
	if st.CAExpiring {
		return st, false, fmt.Errorf("the CA in %s expires %s, within the renewal window: make a new CA with --force --new-ca and update the caBundle", dir, st.CANotAfter.Format(time.RFC3339))
	}
	if !st.NeedsRenewal {
		return st, false, nil
	}
	ca, err := LoadCA(dir)
	if err != nil {
		return st, false, fmt.Errorf("renewing needs the CA key: %w", err)
	}
	leaf, err := NewServing(ca, o)
	if err != nil {
		return st, false, err
	}
	if _, err := writeAll(dir, leafFiles(leaf)); err != nil {
		return st, false, err
	}
	return st, true, nil
}
