// Package access answers who may use continuum and records what they
// looked at: users with roles, their passwords (argon2id), the credentials
// they present (browser sessions and API tokens, stored only as hashes),
// and the access audit.
//
// Users and the audit both live in the event store, beside the clinical
// log, rather than in a file of their own: every replica of the server
// reads the same users and writes to the same audit (the ops kit runs two
// replicas on a KurrentDB cluster), a backup of the store carries them, and
// the audit inherits the log's append-only guarantees. A user's facts are
// the stream "user-<name>"; the audit is the streams "audit-<day>". The
// command API writes only patient, group and program streams, so neither
// can be written or deleted through it, and no route deletes events.
//
// Nothing here holds personal data of patients: audit entries name people
// by their patient ID, never by name, and staff by their user name.
package access
