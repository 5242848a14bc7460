package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oemact/oemact/harness/engine/inproc"
	"github.com/oemact/oemact/harness/internal/harnesstest"
	"github.com/oemact/oemact/harness/runner"
	"github.com/oemact/oemact/harness/scenario"
)

// wrongExpectations expects what the model does not do, once for each kind of reason: an OA rule
// (OTHOEM's key on TSTOEM's board fails rules 2 and 5, not 5 alone), an activation code (the
// service blocks this key: it does not answer key-in-use) and hardware votes (a NIC and a disk
// lose 4 votes, not 3).
const wrongExpectations = `name: wrong
machines:
  oem: {profile: PROFILE, edition: win7-professional, key: oem-slp/OTHOEM/win7-professional}
  blocked: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate/blocked}
  retail: {profile: PROFILE, edition: win7-ultimate, key: retail/win7-ultimate}
steps:
  - boot: oem
    id: oa-rule
    expect: {oa_rules_failed: [5]}
  - activate: blocked
    id: activation-code
    expect: {activation_code: key-in-use}
  - activate: retail
    expect: {status: Licensed}
  - change: retail
    nic: "52:54:00:4f:45:02"
    disk: TSTDISK0999
  - boot: retail
    id: hardware-votes
    expect: {hardware: {lost_votes: 3}}
`

// The reasons of the three wrong expectations, as the model words them.
var wrongReasons = map[string]string{
	"oa-rule":         "OA rules failed: want 5, got 2,5, because OA 2.1 fails rule 2 (OEM certificate matches the marker): ",
	"activation-code": "activation code: want key-in-use, got key-blocked, because the online activation answered blocked (key-blocked: key ",
	"hardware-votes": "hardware votes lost: want 3, got 4, because vote policy: 4 of 10 votes lost (nic 3 + disk 1), 6 match, " +
		"7 required (not dockable): out of tolerance",
}

// A failed expectation says why, in every report: the console's progress line and summary, the
// JUnit failure's message and body, the JSON check and the HTML report.
func TestFailedChecksSayWhy(t *testing.T) {
	prof := filepath.Join(harnesstest.RepoRoot(), "fixtures", "profiles", "tstoem-desktop.yaml")
	path := filepath.Join(t.TempDir(), "wrong.yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(wrongExpectations, "PROFILE", prof)), 0o644))
	sc, err := scenario.Load(path)
	require.NoError(t, err)
	var progress bytes.Buffer
	p := NewProgress(&progress, false)
	r, err := runner.Execute(context.Background(), []*scenario.Scenario{sc},
		runner.Options{Engine: inproc.Engine{}, Artifacts: t.TempDir(), Observer: p})
	require.NoError(t, err)
	p.Finish()
	require.NoError(t, p.Err())
	res := r.Scenarios[0]
	require.Equal(t, runner.Failed, res.Outcome, res.Error)
	steps := map[string]*runner.Step{}
	for _, st := range res.Steps {
		steps[st.ID] = st
	}
	// The rule 5 reason comes after rule 2's; the service's message after its code.
	more := map[string]string{"oa-rule": "; rule 5 (OEM:SLP key of this OEM and edition): ", "activation-code": " is blocked: the copy enters non-genuine grace)"}

	var summary, junit, js, page bytes.Buffer
	require.NoError(t, WriteSummary(&summary, r))
	require.NoError(t, WriteJUnit(&junit, r))
	require.NoError(t, WriteJSON(&js, r))
	require.NoError(t, WriteHTML(&page, r))
	doc := parseJUnit(t, junit.Bytes())
	require.Len(t, doc.Suites, 1)
	cases := map[string]xTestcase{}
	for _, c := range doc.Suites[0].Cases {
		cases[c.Name] = c
	}
	var back runner.Run
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))

	for id, want := range wrongReasons {
		st := steps[id]
		require.NotNil(t, st, id)
		assert.Equal(t, runner.Failed, st.Outcome, id)
		failed := failedChecks(st)
		require.Len(t, failed, 1, id)
		line := checkText(failed[0])
		assert.True(t, strings.HasPrefix(line, want), "%s: %s", id, line)
		assert.Contains(t, line, more[id], id)

		assert.Contains(t, progress.String(), "    "+line+" ("+where(res, st)+")\n", "progress line of %s", id)
		assert.Contains(t, summary.String(), "    "+line+"\n", "summary of %s", id)
		c := cases[id]
		require.NotNil(t, c.Failure, id)
		assert.Equal(t, line, c.Failure.Message, "JUnit message of %s", id)
		assert.Contains(t, c.Failure.Body, line, "JUnit body of %s", id)
		assert.True(t, strings.Contains(html.UnescapeString(page.String()), line), "HTML of %s", id)
		var why string
		for _, bst := range back.Scenarios[0].Steps {
			for _, bc := range bst.Checks {
				if bst.ID == id && !bc.OK {
					why = bc.Why
				}
			}
		}
		assert.Equal(t, failed[0].Why, why, "JSON of %s", id)
		assert.NotEmpty(t, why, id)
	}
	// Checks that held carry no reason.
	for _, st := range res.Steps {
		for _, c := range st.Checks {
			if c.OK {
				assert.Empty(t, c.Why, "%s %s", st.Description, c.Name)
			}
		}
	}
}
