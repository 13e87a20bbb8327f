package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in a policy file, with the line and key it is at.
type Error struct {
	Line int    // 1-based; 0 when unknown
	Key  string // dotted path, e.g. service.clientIPTimeout.min
	Msg  string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Key != "":
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Key, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.Key != "":
		return fmt.Sprintf("%s: %s", e.Key, e.Msg)
	}
	return e.Msg
}

// maxPolicyBytes bounds a policy file; real ones are a few hundred bytes.
const maxPolicyBytes = 1 << 20

// Parse reads a policy document. Keys not set keep their built-in defaults;
// class controllers are merged over the built-in map. knownRule reports
// whether a rule ID exists (nil accepts any ID). Unknown keys and bad values
// are errors naming the line and key; every problem found is returned.
func Parse(data []byte, knownRule func(id string) bool) (*Policy, error) {
	if len(data) > maxPolicyBytes {
		return nil, &Error{Msg: fmt.Sprintf("policy is %d bytes; the limit is %d", len(data), maxPolicyBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Msg: "policy is empty"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Line: yamlErrLine(err), Msg: cleanYAMLErr(err)}
	}
	p := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
		return nil, typeErrors(err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		return nil, &Error{Msg: "policy must be a single YAML document"}
	}
	if errs := p.validate(knownRule); len(errs) > 0 {
		for _, e := range errs {
			e.Line = lineOf(&root, e.Key)
		}
		return nil, joinErrors(errs)
	}
	return p, nil
}

// Validate checks the values of a policy built in code.
func (p *Policy) Validate(knownRule func(id string) bool) error {
	if errs := p.validate(knownRule); len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

func (p *Policy) validate(knownRule func(id string) bool) []*Error {
	var errs []*Error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if p.APIVersion != APIVersion {
		bad("apiVersion", "must be %q, got %q", APIVersion, p.APIVersion)
	}
	if p.Kind != Kind {
		bad("kind", "must be %q, got %q", Kind, p.Kind)
	}
	t := p.Service.ClientIPTimeout
	if t.Default < 1 || t.Default > MaxAPITimeout {
		bad("service.clientIPTimeout.default", "must be between 1 and %d seconds, got %d", MaxAPITimeout, t.Default)
	}
	if t.Min < 1 || t.Min > MaxAPITimeout {
		bad("service.clientIPTimeout.min", "must be between 1 and %d seconds, got %d", MaxAPITimeout, t.Min)
	}
	if t.Max < 1 || t.Max > MaxAPITimeout {
		bad("service.clientIPTimeout.max", "must be between 1 and %d seconds, got %d", MaxAPITimeout, t.Max)
	}
	if t.Min > t.Max {
		bad("service.clientIPTimeout.min", "must not exceed max (%d > %d)", t.Min, t.Max)
	}
	if t.Default < t.Min || t.Default > t.Max {
		bad("service.clientIPTimeout.default", "must lie within [min, max] = [%d, %d], got %d", t.Min, t.Max, t.Default)
	}
	switch p.AntiAffinity.Mode {
	case AntiAffinityPreferred, AntiAffinityRequired, AntiAffinityDisabled:
	default:
		bad("antiAffinity.mode", "must be one of preferred, required, disabled; got %q", p.AntiAffinity.Mode)
	}
	if w := p.AntiAffinity.Weight; w < 1 || w > 100 {
		bad("antiAffinity.weight", "must be between 1 and 100, got %d", w)
	}
	for class, ctrl := range p.Ingress.ClassControllers {
		if strings.TrimSpace(class) == "" || strings.TrimSpace(ctrl) == "" {
			bad("ingress.classControllers", "class names and controllers must be non-empty (%q: %q)", class, ctrl)
		}
	}
	switch p.Cluster.CCE {
	case CCEStandard, CCETurbo:
	default:
		bad("cluster.cce", "must be standard or turbo, got %q", p.Cluster.CCE)
	}
	for id, o := range p.Rules {
		switch o {
		case OverrideDeny, OverrideWarn, OverrideDisabled:
		default:
			bad("rules."+id, "must be one of deny, warn, disabled; got %q", o)
		}
		if knownRule != nil && !knownRule(id) {
			bad("rules."+id, "unknown rule ID")
		}
	}
	return errs
}

func joinErrors(errs []*Error) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// lineOf finds the line of a dotted key in the document, or 0.
func lineOf(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(key, ".") {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

var (
	yamlLineRe   = regexp.MustCompile(`line (\d+)`)
	unknownKeyRe = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)
)

func yamlErrLine(err error) int {
	m := yamlLineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func cleanYAMLErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	return yamlLineRe.ReplaceAllString(s, "")
}

// typeErrors turns yaml.v3 decode errors (unknown keys, wrong types) into
// line-numbered policy errors.
func typeErrors(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{Line: yamlErrLine(err), Msg: cleanYAMLErr(err)}
	}
	var errs []*Error
	for _, msg := range te.Errors {
		if m := unknownKeyRe.FindStringSubmatch(msg); m != nil {
			var line int
			fmt.Sscan(m[1], &line)
			errs = append(errs, &Error{Line: line, Key: m[2], Msg: "unknown key"})
			continue
		}
		errs = append(errs, &Error{Line: yamlErrLine(fmt.Errorf("%s", msg)), Msg: strings.TrimSpace(yamlLineRe.ReplaceAllString(msg, ""))})
	}
	return joinErrors(errs)
}
