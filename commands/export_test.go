package commands

// EventIDForTest exposes the event ID derivation to the package's tests.
var EventIDForTest = eventID
