package main

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stickyguard/stickyguard/engine"
)

// realworld holds sticky-session configurations as users write them (chart
// output, provider and controller documentation, kubectl exports), each
// valid upstream and each naming its source in its first comment lines.
const realworld = "../../testdata/realworld"

// knownWrongDenialsFile is the one list of real-world configurations that
// stickyguard still denies although upstream says they work (FILE RULE
// [check|serve]). The webhook integration test reads the same file.
const knownWrongDenialsFile = realworld + "/knownWrongDenials.txt"

// loadKnownWrongDenials returns file -> rule IDs listed for this mode.
func loadKnownWrongDenials(t *testing.T, mode string) map[string][]string {
	t.Helper()
	f, err := os.Open(knownWrongDenialsFile)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		require.Contains(t, []int{2, 3}, len(fields), "%s: want FILE RULE [check|serve]: %q", knownWrongDenialsFile, line)
		if len(fields) == 3 && fields[2] != mode {
			require.Contains(t, []string{"check", "serve"}, fields[2], "%s: %q", knownWrongDenialsFile, line)
			continue
		}
		_, err := os.Stat(filepath.Join(realworld, fields[0]))
		require.NoError(t, err, "%s names a file that does not exist", knownWrongDenialsFile)
		out[fields[0]] = append(out[fields[0]], fields[1])
	}
	require.NoError(t, sc.Err())
	return out
}

// leadingComments returns the comment lines before the first YAML line.
func leadingComments(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func realworldFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(realworld, "*.yaml"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 40, "the real-world valid set has at least 40 configurations")
	return files
}

// deniedRules returns the rule IDs of every violation, with a printable
// line per violation.
func deniedRules(rep engine.Report) (rules []string, lines []string) {
	for _, r := range rep.Results {
		for _, v := range r.Violations {
			rules = append(rules, v.Rule)
			lines = append(lines, r.Source+" "+r.Kind+"/"+r.Name+" "+v.Rule+" "+v.Field+": "+v.Message)
		}
	}
	return rules, lines
}

// assertDenials compares the rules denied for one file with the known wrong
// denials listed for it: anything else denied is a finding, and a listed
// entry that no longer reproduces must be removed from the list.
func assertDenials(t *testing.T, file string, got, known []string, details []string) {
	t.Helper()
	gotSet := map[string]bool{}
	for _, r := range got {
		gotSet[r] = true
	}
	knownSet := map[string]bool{}
	for _, r := range known {
		knownSet[r] = true
		assert.True(t, gotSet[r], "%s: %s is listed in knownWrongDenials.txt but no longer denied: remove the entry", file, r)
	}
	for _, r := range got {
		assert.True(t, knownSet[r], "%s: a real-world valid configuration is denied by %s:\n%s", file, r, strings.Join(details, "\n"))
	}
}

func TestRealWorldFilesNameTheirSource(t *testing.T) {
	for _, f := range realworldFiles(t) {
		assert.Contains(t, leadingComments(t, f), "Source:", "%s: the first comment lines must give the source", filepath.Base(f))
	}
}

// TestRealWorldValidSetIsAdmitted runs `stickyguard check -o json` on every
// real-world file on its own (each file is one configuration; run together,
// unrelated files sharing the default namespace would be matched with each
// other) and expects every object to be admitted.
func TestRealWorldValidSetIsAdmitted(t *testing.T) {
	known := loadKnownWrongDenials(t, "check")
	for _, f := range realworldFiles(t) {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			code, out, stderr := runCmd(t, "", "check", "-o", "json", f)
			require.NotEqual(t, exitError, code, "the file must be readable: %s", stderr)
			rep := decodeReport(t, out)
			require.NotZero(t, len(rep.Results)+len(rep.Skipped), "no object read from %s", base)
			rules, lines := deniedRules(rep)
			assertDenials(t, base, rules, known[base], lines)
			if len(rules) == 0 {
				assert.Equal(t, exitOK, code, "exit status with nothing denied")
			} else {
				assert.Equal(t, exitDenied, code, "exit status with a denial")
			}
		})
	}
}

// TestRealWorldDirectoryCheck runs the command a user would run on the
// whole directory and expects no denial beyond the known ones.
func TestRealWorldDirectoryCheck(t *testing.T) {
	known := loadKnownWrongDenials(t, "check")
	code, out, stderr := runCmd(t, "", "check", "-o", "json", realworld)
	require.NotEqual(t, exitError, code, stderr)
	rep := decodeReport(t, out)
	byFile := map[string][]string{}
	details := map[string][]string{}
	for _, r := range rep.Results {
		file := filepath.Base(strings.SplitN(r.Source, "#", 2)[0])
		for _, v := range r.Violations {
			byFile[file] = append(byFile[file], v.Rule)
			details[file] = append(details[file], r.Source+" "+v.Rule+" "+v.Field+": "+v.Message)
		}
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		for _, rule := range byFile[f] {
			assert.Contains(t, known[f], rule, "%s: denied by %s when the directory is checked:\n%s", f, rule, strings.Join(details[f], "\n"))
		}
	}
	assert.Equal(t, len(byFile) == 0, code == exitOK, "exit status %d with %d files denied", code, len(byFile))
}
