package simulate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Ledger is a small file recording how many days of each run were
// simulated into a store. A run already recorded with at least the asked
// days is not sent again: repeating it would append nothing anyway, but
// costs time, and a stream longer than the command service's idempotency
// window (see commands) could not recognise its oldest commands.
type Ledger struct {
	path string
}

// OpenLedger returns the ledger kept at path (created on first record).
func OpenLedger(path string) *Ledger { return &Ledger{path: path} }

// ledgerFile is the ledger's content: days simulated by run ID.
type ledgerFile struct {
	Runs map[string]int `json:"runs"`
}

func (l *Ledger) read() (ledgerFile, error) {
	f := ledgerFile{Runs: map[string]int{}}
	b, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("simulation ledger: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("simulation ledger %s: %w", l.path, err)
	}
	if f.Runs == nil {
		f.Runs = map[string]int{}
	}
	return f, nil
}

// Done returns how many days of cfg's run the store already holds.
func (l *Ledger) Done(cfg Config) (int, error) {
	f, err := l.read()
	return f.Runs[cfg.RunID()], err
}

// Record notes that the store holds days days of cfg's run.
func (l *Ledger) Record(cfg Config, days int) error {
	f, err := l.read()
	if err != nil {
		return err
	}
	if f.Runs[cfg.RunID()] >= days {
		return nil
	}
	f.Runs[cfg.RunID()] = days
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("simulation ledger: %w", err)
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("simulation ledger: %w", err)
	}
	return os.Rename(tmp, l.path)
}
