package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/stickyguard/stickyguard"

// corePackages are the shared core every entry point uses (relative to the
// module root); none of them may reach the admission server.
var corePackages = []string{"engine", "audit", "policy"}

// rule forbids packages under from (transitively, production code only)
// importing any package under one of the forbidden prefixes.
type rule struct {
	name      string
	from      []string
	forbidden []string
	except    []string // packages under a forbidden prefix that are allowed
}

var rules = []rule{
	{name: "validators import neither webhook nor cmd", from: []string{"validators"}, forbidden: []string{"webhook", "cmd"}},
	{name: "mutators import neither webhook nor cmd", from: []string{"mutators"}, forbidden: []string{"webhook", "cmd"}},
	{name: "validators and mutators sit below the engine and the audit", from: []string{"validators", "mutators"}, forbidden: []string{"engine", "audit"}},
	{name: "the shared predicates import nothing of ours but the policy", from: []string{"internal/sticky"}, forbidden: []string{""}, except: []string{"policy"}},
	{name: "the custom-resource types are a leaf", from: []string{"apis"}, forbidden: []string{""}},
	{name: "validators never import mutators", from: []string{"validators"}, forbidden: []string{"mutators"}},
	{name: "mutators never import validators", from: []string{"mutators"}, forbidden: []string{"validators"}},
	{name: "the core does not import the admission server", from: corePackages, forbidden: []string{"webhook", "cmd"}, except: corePackages},
}

func TestImportRules(t *testing.T) {
	graph := moduleImports(t, moduleRoot(t))
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			checked := 0
			for pkg := range graph {
				if !under(pkg, r.from) {
					continue
				}
				checked++
				for _, dep := range reachable(graph, pkg) {
					if under(dep, r.forbidden) && !under(dep, r.except) {
						assert.Failf(t, "forbidden import", "%s reaches %s (%s)", pkg, dep, strings.Join(path(graph, pkg, dep), " -> "))
					}
				}
			}
			assert.Positive(t, checked, "no package matched %v: the rule checks nothing", r.from)
		})
	}
}

// ruleIDFree are the packages (with everything under them) whose production
// code names no rule by a string literal: a rule ID belongs to its family in
// validators/, and defaults are reached through their declarations.
var ruleIDFree = []string{"cmd", "webhook"}

var ruleIDLiteral = regexp.MustCompile(`^"[A-Z]{2,4}-[0-9]{3}"$`)

func TestNoRuleIDLiterals(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	files := 0
	for _, dir := range append(slices.Clone(ruleIDFree), corePackages...) {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, 0)
			if err != nil {
				return err
			}
			files++
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && ruleIDLiteral.MatchString(lit.Value) {
					assert.Failf(t, "rule ID literal", "%s: %s", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	assert.Positive(t, files)
}

// TestImportRulesCatchViolations proves the checker sees a forbidden edge,
// direct or through another package.
func TestImportRulesCatchViolations(t *testing.T) {
	graph := map[string][]string{
		"validators": {"internal/sticky", "policy"},
		"policy":     {"mutators"},
		"mutators":   {"internal/sticky"},
	}
	assert.Contains(t, reachable(graph, "validators"), "mutators")
	assert.Equal(t, []string{"validators", "policy", "mutators"}, path(graph, "validators", "mutators"))
	assert.NotContains(t, reachable(graph, "mutators"), "validators")
}

// moduleRoot finds the directory holding go.mod above this package.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "go.mod not found")
		dir = parent
	}
}

// moduleImports parses the import blocks of every non-test Go file in the
// module and returns, per package (path relative to the module root), the
// module packages it imports directly.
func moduleImports(t *testing.T, root string) map[string][]string {
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (name == "bin" || name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
					return filepath.SkipDir // a nested module (hack/tools/...)
				}
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			ip, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if dep, ok := strings.CutPrefix(ip, module+"/"); ok && !slices.Contains(graph[pkg], dep) {
				graph[pkg] = append(graph[pkg], dep)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, graph)
	return graph
}

// reachable lists every module package pkg imports, directly or not.
func reachable(graph map[string][]string, pkg string) []string {
	seen := map[string]bool{pkg: true}
	var out []string
	queue := []string{pkg}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, dep := range graph[cur] {
			if !seen[dep] {
				seen[dep] = true
				out = append(out, dep)
				queue = append(queue, dep)
			}
		}
	}
	return out
}

// path is one import chain from pkg to dep (for the failure message).
func path(graph map[string][]string, pkg, dep string) []string {
	prev := map[string]string{pkg: ""}
	queue := []string{pkg}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == dep {
			var chain []string
			for p := dep; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, next := range graph[cur] {
			if _, ok := prev[next]; !ok {
				prev[next] = cur
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// under reports whether pkg is one of prefixes or inside one of them ("" is
// the whole module).
func under(pkg string, prefixes []string) bool {
	for _, p := range prefixes {
		if p == "" || pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}
