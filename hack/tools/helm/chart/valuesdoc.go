package chart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// docMarker starts the comment that documents the key below it.
const docMarker = "# --"

// ValueDoc is one documented key of values.yaml.
type ValueDoc struct {
	Key         string // dotted path, e.g. image.tag
	Type        string
	Default     string // JSON
	Description string
}

// DocumentValues lists the keys of values.yaml that carry a "# --" comment,
// in file order.
func DocumentValues(valuesYAML []byte) ([]ValueDoc, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(valuesYAML, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("values.yaml is not a mapping")
	}
	var out []ValueDoc
	err := walkDocs(doc.Content[0], "", &out)
	return out, err
}

func walkDocs(m *yaml.Node, prefix string, out *[]ValueDoc) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if desc, ok := description(k.HeadComment); ok {
			d, err := docOf(key, v, desc)
			if err != nil {
				return err
			}
			*out = append(*out, d)
		}
		if v.Kind == yaml.MappingNode {
			if err := walkDocs(v, key+".", out); err != nil {
				return err
			}
		}
	}
	return nil
}

// description returns the text after the "# --" marker, its continuation
// lines joined with spaces.
func description(comment string) (string, bool) {
	lines := strings.Split(comment, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, docMarker) {
			continue
		}
		parts := []string{strings.TrimSpace(strings.TrimPrefix(l, docMarker))}
		for _, c := range lines[i+1:] {
			parts = append(parts, strings.TrimSpace(strings.TrimPrefix(c, "#")))
		}
		return strings.Join(parts, " "), true
	}
	return "", false
}

func docOf(key string, v *yaml.Node, desc string) (ValueDoc, error) {
	var val any
	if err := v.Decode(&val); err != nil {
		return ValueDoc{}, fmt.Errorf("%s: %w", key, err)
	}
	def, err := json.Marshal(val)
	if err != nil {
		return ValueDoc{}, fmt.Errorf("%s: %w", key, err)
	}
	return ValueDoc{Key: key, Type: typeOf(v), Default: string(def), Description: desc}, nil
}

func typeOf(v *yaml.Node) string {
	switch {
	case v.Kind == yaml.MappingNode:
		return "object"
	case v.Kind == yaml.SequenceNode:
		return "list"
	case v.Tag == "!!int":
		return "int"
	case v.Tag == "!!bool":
		return "bool"
	case v.Tag == "!!float":
		return "float"
	default:
		return "string"
	}
}

// readmeData is what README.md.gotmpl sees.
type readmeData struct {
	Name, Version, AppVersion, KubeVersion string
	Values                                 string
}

// GenerateREADME renders the chart's README.md from README.md.gotmpl and the
// documented values.
func GenerateREADME(chartDir string) ([]byte, error) {
	ch, err := Load(chartDir)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	docs, err := DocumentValues(raw)
	if err != nil {
		return nil, err
	}
	tplText, err := os.ReadFile(filepath.Join(chartDir, "README.md.gotmpl"))
	if err != nil {
		return nil, err
	}
	tpl, err := template.New("README.md.gotmpl").Option("missingkey=error").Parse(string(tplText))
	if err != nil {
		return nil, err
	}
	data := readmeData{
		Name: ch.Metadata.Name, Version: ch.Metadata.Version, AppVersion: ch.Metadata.AppVersion,
		KubeVersion: ch.Metadata.KubeVersion, Values: valuesTable(docs),
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func valuesTable(docs []ValueDoc) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n")
	for _, d := range docs {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Key, d.Type, code(d.Default), cell(d.Description))
	}
	return b.String()
}

// code renders a default as inline code; pipes would end the table cell.
func code(s string) string {
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
