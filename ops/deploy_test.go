package ops

import (
	"os"
	"os/exec"
	"testing"
)

// promtool finds Prometheus's rule checker (Debian's prometheus package
// ships it; .ci/run installs it). Without it the test is skipped, except in
// CI, where a missing tool must not pass for a checked rules file.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found but CI is set: install Debian's prometheus package (.ci/run does): %v", err)
		}
		t.Skip("promtool not found: install Debian's prometheus package (apt-get install prometheus) to check the alert rules")
	}
	return path
}

// TestDeployConfigWithPromtool checks the alert rules and the Prometheus
// configuration as Prometheus itself would load them, and runs the rules'
// unit tests (alerts_test.yml: when each alert fires and when it must not).
func TestDeployConfigWithPromtool(t *testing.T) {
	tool := promtool(t)
	tests := []struct {
		name string
		args []string
	}{
		{name: "rules are valid", args: []string{"check", "rules", "alerts.yml"}},
		{name: "rules unit tests pass", args: []string{"test", "rules", "alerts_test.yml"}},
		{name: "prometheus config loads the rules", args: []string{"check", "config", "prometheus.yml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tool, tc.args...)
			cmd.Dir = "deploy"
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("promtool %v: %v\n%s", tc.args, err, out)
			}
		})
	}
}
