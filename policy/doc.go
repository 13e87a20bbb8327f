// Package policy holds the stickyguard Policy: the knobs an organisation sets
// for the rule engine (timeout defaults and bounds, anti-affinity mode, whether
// to set externalTrafficPolicy Local, ingress class to controller mapping,
// cluster facts the objects cannot show, and per-rule severity overrides).
//
// It parses and validates the policy file (YAML, apiVersion
// stickyguard.io/v1alpha1, kind Policy) and supplies built-in defaults. It does
// no I/O beyond what the caller hands it and knows nothing about the webhook.
package policy
