package certs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// webhookKinds are the documents whose webhooks get a caBundle.
var webhookKinds = map[string]bool{
	"MutatingWebhookConfiguration":   true,
	"ValidatingWebhookConfiguration": true,
}

// PatchCABundle sets clientConfig.caBundle (base64 of caPEM) on every
// webhook of every Mutating/ValidatingWebhookConfiguration in a multi-document
// YAML stream, keeping the other documents, key order and comments. It
// returns the patched stream and how many webhooks it patched.
func PatchCABundle(in, caPEM []byte) ([]byte, int, error) {
	return Patch(in, PatchOptions{CABundle: caPEM})
}

// PatchOptions say what Patch writes into each webhook's clientConfig.
type PatchOptions struct {
	// CABundle is the PEM CA certificate; it is stored base64-encoded.
	CABundle []byte
	// URL, when set, replaces clientConfig.service with
	// url: URL + service.path, e.g. https://127.0.0.1:9443/mutate--v1-service,
	// for a webhook running outside the cluster (local runs and e2e).
	URL string
}

// Patch rewrites the clientConfig of every webhook as PatchCABundle does,
// optionally replacing the service reference with a URL.
func Patch(in []byte, opts PatchOptions) ([]byte, int, error) {
	if _, err := ParseCertificate(opts.CABundle); err != nil {
		return nil, 0, fmt.Errorf("caBundle: %w", err)
	}
	if opts.URL != "" {
		u, err := url.Parse(opts.URL)
		if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, 0, fmt.Errorf("URL %q must be https://host[:port] without a path", opts.URL)
		}
		opts.URL = strings.TrimSuffix(opts.URL, "/")
	}
	bundle := base64.StdEncoding.EncodeToString(opts.CABundle)
	dec := yaml.NewDecoder(bytes.NewReader(in))
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	patched := 0
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(doc.Content) == 0 {
			continue // empty document
		}
		root := doc.Content[0]
		if root.Kind == yaml.MappingNode && webhookKinds[scalar(root, "kind")] {
			n, err := patchWebhooks(root, bundle, opts.URL)
			if err != nil {
				return nil, 0, fmt.Errorf("document %d (%s %s): %w", i+1, scalar(root, "kind"), scalar(get(root, "metadata"), "name"), err)
			}
			patched += n
		}
		if err := enc.Encode(&doc); err != nil {
			return nil, 0, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, 0, err
	}
	return out.Bytes(), patched, nil
}

func patchWebhooks(root *yaml.Node, bundle, baseURL string) (int, error) {
	hooks := get(root, "webhooks")
	if hooks == nil || hooks.Kind != yaml.SequenceNode {
		return 0, errors.New("no webhooks list")
	}
	for i, h := range hooks.Content {
		if h.Kind != yaml.MappingNode {
			return 0, fmt.Errorf("webhooks[%d] is not a mapping", i)
		}
		cc := get(h, "clientConfig")
		if cc == nil {
			cc = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			set(h, "clientConfig", cc)
		}
		if cc.Kind != yaml.MappingNode {
			return 0, fmt.Errorf("webhooks[%d].clientConfig is not a mapping", i)
		}
		if baseURL != "" {
			svc := get(cc, "service")
			if svc == nil {
				return 0, fmt.Errorf("webhooks[%d].clientConfig has no service to turn into a URL", i)
			}
			del(cc, "service")
			set(cc, "url", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: baseURL + scalar(svc, "path")})
		}
		set(cc, "caBundle", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: bundle})
	}
	return len(hooks.Content), nil
}

// get returns the value of key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if v := get(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// del removes key from a mapping node.
func del(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// set replaces or appends key in a mapping node.
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}
