// Package reliability holds continuum's reliability tests (issue #6 §5):
// the real server killed with SIGKILL under a mixed command load and
// restarted on the same data directory, its EventStoreDB connection cut
// and restored under load, a thousand websocket clients against
// concurrent writers, a data directory whose file system turns read-only,
// fuzz targets for event decoding and command bodies, and bad input over
// HTTP.
//
// The package has no code outside its tests. The process-level tests build
// cmd/continuum once and run it as a child process, so they exercise what
// an operator runs, signals and exit paths included; the fuzz targets and
// the bad-input table drive the real web handlers in process, where a
// store wrapper can tell whether anything was appended. Every test prints
// its figures with t.Logf; RELIABILITY.md at the repository root records
// them with the command that produced them.
package reliability
