package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// Defaults for Options.
const (
	DefaultService      = "stickyguard-webhook"
	DefaultNamespace    = "stickyguard-system"
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultLeafValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a slightly slow API server clock
	// still accepts a certificate made a moment ago.
	clockSkew = time.Hour
)

// KeyType is the private key algorithm.
type KeyType string

// Supported key types.
const (
	ECDSA KeyType = "ecdsa" // P-256
	RSA   KeyType = "rsa"   // 2048 bits
)

// Options describe the certificates to make.
type Options struct {
	Service   string   // webhook Service name
	Namespace string   // its namespace
	Hosts     []string // extra SANs: IP addresses or DNS names (e.g. 127.0.0.1, localhost)
	KeyType   KeyType
	// CAValidity and LeafValidity are how long the certificates are valid.
	CAValidity   time.Duration
	LeafValidity time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultOptions are the options `stickyguard certs` starts from.
func DefaultOptions() Options {
	return Options{
		Service:      DefaultService,
		Namespace:    DefaultNamespace,
		Hosts:        []string{"localhost", "127.0.0.1"},
		KeyType:      ECDSA,
		CAValidity:   DefaultCAValidity,
		LeafValidity: DefaultLeafValidity,
	}
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	if strings.TrimSpace(o.Service) == "" {
		errs = append(errs, errors.New("service name must not be empty"))
	}
	if strings.TrimSpace(o.Namespace) == "" {
		errs = append(errs, errors.New("namespace must not be empty"))
	}
	switch o.KeyType {
	case ECDSA, RSA:
	default:
		errs = append(errs, fmt.Errorf("key type must be %q or %q, got %q", ECDSA, RSA, o.KeyType))
	}
	if o.CAValidity <= 0 || o.LeafValidity <= 0 {
		errs = append(errs, errors.New("validity periods must be positive"))
	}
	if o.LeafValidity > o.CAValidity {
		errs = append(errs, fmt.Errorf("serving certificate validity %s exceeds the CA's %s", o.LeafValidity, o.CAValidity))
	}
	for _, h := range o.Hosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, " /") {
			errs = append(errs, fmt.Errorf("invalid host %q", h))
		}
	}
	return errors.Join(errs...)
}

// DNSNames returns the names the API server uses to reach the Service:
// <svc>.<ns>.svc and <svc>.<ns>.svc.cluster.local, then <svc> and
// <svc>.<ns> for in-namespace clients.
func DNSNames(service, namespace string) []string {
	return []string{
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
		service,
		service + "." + namespace,
	}
}

// SANs splits the serving certificate's subject alternative names into DNS
// names and IP addresses, without duplicates.
func (o *Options) SANs() (dns []string, ips []net.IP) {
	seen := map[string]bool{}
	for _, n := range append(DNSNames(o.Service, o.Namespace), o.Hosts...) {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, n)
		}
	}
	return dns, ips
}

// KeyPair is a certificate with its private key, parsed and PEM-encoded.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA makes a self-signed CA that may sign only end-entity certificates.
func NewCA(o Options) (*KeyPair, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	key, err := newKey(o.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := o.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "stickyguard-webhook-ca", Organization: []string{"stickyguard"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(o.CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, tmpl, key, key)
}

// NewServing makes a serving certificate for the webhook signed by ca.
func NewServing(ca *KeyPair, o Options) (*KeyPair, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if ca == nil || ca.Key == nil || ca.Cert == nil {
		return nil, errors.New("a CA certificate and key are needed to sign the serving certificate")
	}
	key, err := newKey(o.KeyType)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := o.now()
	notAfter := now.Add(o.LeafValidity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter // never outlive the issuer
	}
	dns, ips := o.SANs()
	usage := x509.KeyUsageDigitalSignature
	if o.KeyType == RSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: dns[0], Organization: []string{"stickyguard"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	return sign(tmpl, ca.Cert, key, ca.Key)
}

func sign(tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) (*KeyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{
		Cert:    cert,
		Key:     key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  keyPEM,
	}, nil
}

func newKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	case ECDSA, "":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return nil, fmt.Errorf("unsupported key type %q", t)
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPair parses PEM certificate and key (PKCS#8, PKCS#1 or EC) and
// checks that they belong together.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := signer.Public().(equaler); !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match the certificate")
	}
	return &KeyPair{Cert: cert, Key: signer, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// ParseCertificate parses the first PEM certificate.
func ParseCertificate(certPEM []byte) (*x509.Certificate, error) {
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// Verify checks that leaf is signed by ca, is a server certificate, is valid
// at now, and covers every DNS name and IP in o's SANs.
func Verify(leaf, ca *x509.Certificate, o Options, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return err
	}
	dns, ips := o.SANs()
	var errs []error
	for _, n := range dns {
		if err := leaf.VerifyHostname(n); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ip := range ips {
		if err := leaf.VerifyHostname(ip.String()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
