package report

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The JUnit schema as Jenkins' and GitLab's readers see it, written apart from the writer's own
// types so that a mistake in those is not read back as right. Attributes are read as strings to
// check their form.
type xTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    string       `xml:"tests,attr"`
	Failures string       `xml:"failures,attr"`
	Errors   string       `xml:"errors,attr"`
	Skipped  string       `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []xTestsuite `xml:"testsuite"`
}

type xTestsuite struct {
	Name       string      `xml:"name,attr"`
	Tests      string      `xml:"tests,attr"`
	Failures   string      `xml:"failures,attr"`
	Errors     string      `xml:"errors,attr"`
	Skipped    string      `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []xProperty `xml:"properties>property"`
	Cases      []xTestcase `xml:"testcase"`
}

type xProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xTestcase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *xProblem `xml:"failure"`
	Error     *xProblem `xml:"error"`
	Skipped   *xProblem `xml:"skipped"`
	SystemOut *string   `xml:"system-out"`
}

type xProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// parseJUnit reads the XML back strictly and checks the schema's rules that the readers rely on:
// the counts are non-negative integers that add up, times are non-negative decimal seconds, names
// are present, a testcase has at most one of failure, error and skipped.
func parseJUnit(t *testing.T, b []byte) xTestsuites {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte(xml.Header)), "starts with the XML declaration")
	var doc xTestsuites
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	require.NoError(t, dec.Decode(&doc))

	count := func(what, s string) int {
		t.Helper()
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "%s=%q is not an integer", what, s)
		require.GreaterOrEqual(t, n, 0, what)
		return n
	}
	seconds := regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	var tests, failures, errors, skipped int
	for _, s := range doc.Suites {
		require.NotEmpty(t, s.Name, "testsuite name")
		assert.Regexp(t, seconds, s.Time, "testsuite %s time", s.Name)
		if s.Timestamp != "" {
			_, err := time.Parse("2006-01-02T15:04:05", s.Timestamp)
			assert.NoError(t, err, "testsuite timestamp is ISO 8601 without a zone")
		}
		var f, e, sk int
		for _, c := range s.Cases {
			require.NotEmpty(t, c.Name, "testcase name")
			require.NotEmpty(t, c.Classname, "testcase classname")
			assert.Regexp(t, seconds, c.Time, "testcase %s time", c.Name)
			n := 0
			if c.Failure != nil {
				n++
				f++
				assert.NotEmpty(t, c.Failure.Message)
			}
			if c.Error != nil {
				n++
				e++
				assert.NotEmpty(t, c.Error.Message)
			}
			if c.Skipped != nil {
				n++
				sk++
			}
			assert.LessOrEqual(t, n, 1, "testcase %s has one of failure, error, skipped at most", c.Name)
		}
		assert.Equal(t, len(s.Cases), count("tests", s.Tests), "suite %s tests", s.Name)
		assert.Equal(t, f, count("failures", s.Failures), "suite %s failures", s.Name)
		assert.Equal(t, e, count("errors", s.Errors), "suite %s errors", s.Name)
		assert.Equal(t, sk, count("skipped", s.Skipped), "suite %s skipped", s.Name)
		tests, failures, errors, skipped = tests+len(s.Cases), failures+f, errors+e, skipped+sk
	}
	assert.Equal(t, tests, count("tests", doc.Tests))
	assert.Equal(t, failures, count("failures", doc.Failures))
	assert.Equal(t, errors, count("errors", doc.Errors))
	assert.Equal(t, skipped, count("skipped", doc.Skipped))
	assert.Regexp(t, seconds, doc.Time)
	return doc
}

func TestJUnit(t *testing.T) {
	r := fixtureRun()
	b := render(t, junitOut, r)
	golden(t, "junit.xml", b)
	doc := parseJUnit(t, b)

	assert.Equal(t, "oemact run", doc.Name)
	assert.Equal(t, "31", doc.Tests) // 4 + 10 + 7 + 8 + 2 steps
	assert.Equal(t, "1", doc.Failures)
	assert.Equal(t, "1", doc.Errors)
	assert.Equal(t, "2", doc.Skipped)
	assert.Equal(t, "81.370", doc.Time)

	require.Len(t, doc.Suites, len(r.Scenarios))
	for i, s := range doc.Suites {
		sc := r.Scenarios[i]
		assert.Equal(t, sc.Name, s.Name)
		require.Len(t, s.Cases, len(sc.Steps))
		for j, c := range s.Cases {
			assert.Equal(t, sc.Name, c.Classname)
			assert.Equal(t, testNames(sc)[j], c.Name)
			require.NotNil(t, c.SystemOut, "%s %s has its output", s.Name, c.Name)
		}
		assert.Equal(t, "2026-03-12T10:04:31", s.Timestamp)
	}

	retail := doc.Suites[1]
	assert.Equal(t, "retail-hardware-change", retail.Name)
	assert.Equal(t, "1", retail.Failures)
	c := retail.Cases[7]
	assert.Equal(t, "boot pc #3", c.Name) // the third boot of pc: numbered among its equals only
	assert.Equal(t, "2.270", c.Time)
	require.NotNil(t, c.Failure)
	assert.Equal(t, "reminders: want 6, got 12", c.Failure.Message)
	assert.Equal(t, "check", c.Failure.Type)
	assert.Contains(t, c.Failure.Body, "fixtures/scenarios/retail-hardware-change.yaml:33")
	assert.Contains(t, c.Failure.Body, "reproduce: qemu-system-x86_64 ")
	assert.Contains(t, c.Failure.Body, "serial log: artifacts/retail-hardware-change/step-8/serial.log")
	assert.Contains(t, *c.SystemOut, "ok   status = OOTGrace")
	assert.Contains(t, *c.SystemOut, "reminder-periodic")
	assert.Contains(t, *c.SystemOut, "note: reminders since step 6: 11 every 4 hours")
	assert.Nil(t, retail.Cases[6].Failure, "a passed step has no failure")

	kms := doc.Suites[2]
	assert.Equal(t, "kms-threshold", kms.Name)
	assert.Equal(t, "1", kms.Errors)
	assert.Equal(t, "2", kms.Skipped)
	assert.Equal(t, "0", kms.Failures, "an infrastructure error is not a test failure")
	e := kms.Cases[4]
	assert.Equal(t, "activate kms-1", e.Name)
	require.NotNil(t, e.Error)
	assert.Nil(t, e.Failure)
	assert.Equal(t, "infrastructure", e.Error.Type)
	assert.True(t, strings.HasPrefix(e.Error.Message, "qemu: the guest did not power off within 60s"), e.Error.Message)
	assert.Contains(t, e.Error.Body, "reproduce: qemu-system-x86_64 -machine q35,accel=tcg")
	assert.Contains(t, e.Error.Body, "serial log: artifacts/kms-threshold/step-5/serial.log")
	assert.Equal(t, "60.040", e.Time)
	for _, sk := range kms.Cases[5:] {
		assert.NotNil(t, sk.Skipped, sk.Name)
	}
	assert.Contains(t, kms.Properties, xProperty{"artifacts", "artifacts/kms-threshold"})
	assert.Contains(t, kms.Properties, xProperty{"accel", r.Accel})
}

// Text that XML must escape (quotes in a message, angle brackets, ampersands) reads back as written.
func TestJUnitEscaping(t *testing.T) {
	r := fixtureRun()
	st := r.Scenarios[1].Steps[7]
	st.Checks[1].Want = `<6 & "few">`
	b := render(t, junitOut, r)
	doc := parseJUnit(t, b)
	assert.Equal(t, `reminders: want <6 & "few">, got 12`, doc.Suites[1].Cases[7].Failure.Message)
}

// What a guest sends is untrusted: control characters and a CDATA terminator in an error or a note
// still give XML that reads back.
func TestJUnitHostileText(t *testing.T) {
	r := fixtureRun()
	st := r.Scenarios[2].Steps[4]
	st.Error = "qemu: guest said \x1b[31mpanic\x1b[0m ]]> <oops/> \x00"
	st.Notes = []string{"note ]]]]>> \x07 end"}
	doc := parseJUnit(t, render(t, junitOut, r))
	c := doc.Suites[2].Cases[4]
	require.NotNil(t, c.Error)
	assert.Equal(t, "qemu: guest said \uFFFD[31mpanic\uFFFD[0m ]]> <oops/> \uFFFD", c.Error.Message)
	assert.Contains(t, c.Error.Body, "]]> <oops/>")
	assert.Contains(t, *c.SystemOut, "note ]]]]>> \uFFFD end")
}
