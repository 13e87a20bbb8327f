package certs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// File names in the output directory. tls.crt and tls.key are what `serve
// --cert-dir` reads (and what a kubernetes.io/tls Secret holds); ca.crt is
// the caBundle source; ca.key signs renewed serving certificates and should
// stay off the cluster.
const (
	CertFile   = "tls.crt"
	KeyFile    = "tls.key"
	CAFile     = "ca.crt"
	CAKeyFile  = "ca.key"
	keyPerm    = 0o600
	publicPerm = 0o644
)

// ErrExists is returned when the output directory already holds
// certificates and overwriting was not asked for.
var ErrExists = errors.New("certificates already exist (use --force to replace them)")

// GenerateOptions control overwriting.
type GenerateOptions struct {
	// Force replaces existing files. An existing, still valid CA (ca.crt and
	// ca.key) is reused unless NewCA is set, so the caBundle in the webhook
	// configurations stays valid.
	Force bool
	// NewCA makes a fresh CA even when a usable one exists.
	NewCA bool
}

// Result reports what Generate wrote.
type Result struct {
	CA       *KeyPair
	Leaf     *KeyPair
	CAReused bool
	Files    []string // paths written
}

// Generate writes a CA and a serving certificate into dir.
func Generate(dir string, o Options, g GenerateOptions) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if existing := existingFiles(dir); len(existing) > 0 && !g.Force {
		return nil, fmt.Errorf("%s: %w: %s", dir, ErrExists, strings.Join(existing, ", "))
	}
	res := &Result{}
	if g.Force && !g.NewCA {
		if ca, err := LoadCA(dir); err == nil && o.now().Add(o.LeafValidity).Before(ca.Cert.NotAfter) {
			res.CA, res.CAReused = ca, true
		}
	}
	if res.CA == nil {
		ca, err := NewCA(o)
		if err != nil {
			return nil, err
		}
		res.CA = ca
	}
	leaf, err := NewServing(res.CA, o)
	if err != nil {
		return nil, err
	}
	res.Leaf = leaf
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []fileData
	if !res.CAReused {
		files = append(files, fileData{CAKeyFile, res.CA.KeyPEM, keyPerm}, fileData{CAFile, res.CA.CertPEM, publicPerm})
	}
	files = append(files, leafFiles(leaf)...)
	if res.Files, err = writeAll(dir, files); err != nil {
		return nil, err
	}
	return res, nil
}

// leafFiles orders the key before the certificate: a watcher that reloads
// on each write sees at most one mismatched moment, which it rejects,
// keeping the pair it had.
func leafFiles(leaf *KeyPair) []fileData {
	return []fileData{{KeyFile, leaf.KeyPEM, keyPerm}, {CertFile, leaf.CertPEM, publicPerm}}
}

type fileData struct {
	name string
	data []byte
	perm os.FileMode
}

func writeAll(dir string, files []fileData) ([]string, error) {
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeFileAtomic(p, f.data, f.perm); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it over path, so readers never see a half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(name, path)
}

func existingFiles(dir string) []string {
	var out []string
	for _, n := range []string{CertFile, KeyFile, CAFile, CAKeyFile} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// LoadCA reads ca.crt and ca.key from dir.
func LoadCA(dir string) (*KeyPair, error) {
	return loadPair(dir, CAFile, CAKeyFile)
}

// LoadLeaf reads tls.crt and tls.key from dir.
func LoadLeaf(dir string) (*KeyPair, error) {
	return loadPair(dir, CertFile, KeyFile)
}

func loadPair(dir, certName, keyName string) (*KeyPair, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyName))
	if err != nil {
		return nil, err
	}
	kp, err := ParseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, certName, err)
	}
	return kp, nil
}

// CABundle reads ca.crt from dir: the PEM the webhook configurations'
// clientConfig.caBundle carries (base64-encoded in YAML).
func CABundle(dir string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	if _, err := ParseCertificate(data); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CAFile), err)
	}
	return data, nil
}
